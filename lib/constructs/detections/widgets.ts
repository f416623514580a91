/**
 * The detections' rows of the operations dashboard: alarm status, evaluation lag and late evidence
 * per org, failed runs and findings per detection, new findings and bytes scanned over all
 * detections, and a Logs Insights table of the runner's log per detection.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { DETECT_METRICS } from '../../config/detect-contract';
import type { QueryDefinition } from '../../core/queries';
import { detectionLagMetric } from './alarms';

export interface DetectionWidgetsProps {
  /** Shown in the alarm status row. */
  readonly alarms: readonly cloudwatch.IAlarm[];
  readonly scheduled: readonly QueryDefinition[];
  readonly orgs: readonly string[];
  /** The runner's log group, queried per detection. */
  readonly logGroup: logs.ILogGroup;
}

export function addDetectionWidgets(dashboard: cloudwatch.Dashboard, props: DetectionWidgetsProps): void {
  const { scheduled, orgs } = props;
  const { names, namespace, service, detectionDimension, detectionMetadata } = DETECT_METRICS;
  // Only the metrics in DETECT_METRICS.perDetection exist per detection (the others would cost
  // ~$0.30 a month each per detection); new findings and bytes scanned are graphed over all
  // detections, and tabulated per detection from the runner's log.
  const perDetection = (name: (typeof DETECT_METRICS.perDetection)[number], statistic: string): cloudwatch.Metric[] =>
    scheduled.map(
      (q) =>
        new cloudwatch.Metric({
          namespace,
          metricName: name,
          dimensionsMap: { service, [detectionDimension]: q.id },
          statistic,
          period: Duration.hours(1),
          label: q.id,
        }),
    );
  const allDetections = (name: string, label: string): cloudwatch.Metric =>
    new cloudwatch.Metric({ namespace, metricName: name, dimensionsMap: { service }, statistic: 'Sum', period: Duration.hours(1), label });
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Detection alarms', width: 24, alarms: [...props.alarms] }));
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Detection lag (watermark minus the oldest cursor), seconds, per org', left: orgs.map((o) => detectionLagMetric(o, Duration.minutes(15), names.lagSeconds, o)), width: 12 }),
    new cloudwatch.GraphWidget({
      title: 'Late-evidence ranges waiting for re-evaluation, per org',
      left: orgs.map((o) => detectionLagMetric(o, Duration.minutes(15), names.lateRangesPending, o)),
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Failed detection runs, per detection', left: perDetection(names.failed, 'Sum'), width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Findings (new and suppressed), per detection', left: perDetection(names.findings, 'Sum'), width: 12 }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'New findings e-mailed, all detections', left: [allDetections(names.newFindings, 'new findings')], width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Bytes scanned by Athena, all detections', left: [allDetections(names.dataScannedBytes, 'bytes scanned')], width: 12 }),
  );
  // The runner's record over all detections carries the detection id as a log field: a Logs
  // Insights query (billed per GB of log scanned when the dashboard loads) splits it by detection.
  dashboard.addWidgets(
    new cloudwatch.LogQueryWidget({
      title: 'Runs, new findings and bytes scanned, per detection (runner log)',
      logGroupNames: [props.logGroup.logGroupName],
      view: cloudwatch.LogQueryVisualizationType.TABLE,
      queryLines: [
        `filter ispresent(${detectionMetadata}) and ispresent(${names.failed})`,
        `stats count(*) as runs, sum(${names.failed}) as failed, sum(${names.newFindings}) as newFindings, sum(${names.dataScannedBytes}) as bytesScanned by ${detectionMetadata}`,
        'sort newFindings desc',
      ],
      width: 24,
      height: 8,
    }),
  );
}
