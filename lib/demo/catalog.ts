/**
 * The fixed world the simulated org lives in: the cities its people work from, the networks they
 * connect through, the browsers and apps they use. Values follow what real System Log events carry
 * (lower-case ASN organisations, full English country names, Okta's `os` / `browser` spellings).
 *
 * Residential and office addresses are drawn from prefixes the named ISPs announce; every address
 * an attacker uses comes from the documentation ranges of RFC 5737 (192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24), and IPv6 addresses from 2001:db8::/32 (RFC 3849).
 */

export interface Network {
  readonly asNumber: number;
  readonly asOrg: string;
  readonly isp: string;
  readonly domain: string;
  /** First two octets of the IPv4 blocks addresses are drawn from. */
  readonly prefixes: readonly string[];
}

export interface Place extends Location {
  /** Offset of local (standard) time from UTC, in hours. */
  readonly utcOffsetHours: number;
  /** Share of the org's people who live here. */
  readonly share: number;
  /** Whether the company has an office here (people then work from the office on weekdays). */
  readonly office: boolean;
  readonly officeNetwork: Network;
  readonly homeNetworks: readonly Network[];
  readonly mobileNetworks: readonly Network[];
}

const net = (asNumber: number, asOrg: string, isp: string, domain: string, prefixes: string[]): Network => ({
  asNumber,
  asOrg,
  isp,
  domain,
  prefixes,
});

const COMCAST = net(7922, 'comcast cable communications  llc', 'comcast cable', 'comcast.net', ['73.162', '73.189', '98.207', '24.4']);
const ATT = net(7018, 'at&t services  inc.', 'at&t internet', 'att.net', ['99.7', '107.200', '76.218']);
const SPECTRUM = net(11427, 'charter communications inc', 'spectrum', 'spectrum.com', ['70.114', '97.99', '24.28']);
const VERIZON_FIOS = net(701, 'verizon business', 'verizon fios', 'verizon.net', ['71.187', '100.2', '72.89']);
const TMOBILE_US = net(21928, 't-mobile usa  inc.', 't-mobile usa', 'tmobile.com', ['172.58', '172.56']);
const VERIZON_WIRELESS = net(6167, 'cellco partnership dba verizon wireless', 'verizon wireless', 'verizonwireless.com', ['174.205', '174.215']);
const ZAYO = net(6461, 'zayo bandwidth', 'zayo bandwidth', 'zayo.com', ['64.125']);
const LUMEN = net(3356, 'level 3 parent  llc', 'lumen', 'lumen.com', ['4.14', '8.43']);
const ROGERS = net(812, 'rogers communications canada inc.', 'rogers communications', 'rogers.com', ['99.228', '174.112']);
const BELL = net(577, 'bell canada', 'bell canada', 'bell.ca', ['70.50', '142.112']);
const BT = net(2856, 'british telecommunications plc', 'bt', 'bt.com', ['86.128', '81.151', '109.148']);
const VIRGIN_UK = net(5089, 'virgin media limited', 'virgin media', 'virginmedia.com', ['82.23', '86.12']);
const EE = net(12576, 'ee limited', 'ee mobile', 'ee.co.uk', ['31.94', '213.205']);
const COLT = net(8220, 'colt technology services group limited', 'colt', 'colt.net', ['212.36']);
const EIR = net(5466, 'eircom limited', 'eir', 'eir.ie', ['86.46', '159.134']);
const VIRGIN_IE = net(6830, 'liberty global b.v.', 'virgin media ireland', 'virginmedia.ie', ['89.100', '213.233']);
const THREE_IE = net(13280, 'hutchison 3g ireland limited', 'three ireland', 'three.ie', ['37.228']);
const TELEKOM = net(3320, 'deutsche telekom ag', 'deutsche telekom', 'telekom.de', ['79.197', '91.61', '87.150']);
const VODAFONE_DE = net(3209, 'vodafone gmbh', 'vodafone germany', 'vodafone.de', ['88.72', '94.134']);
const TELEFONICA_DE = net(6805, 'telefonica germany gmbh & co. ohg', 'o2 germany', 'telefonica.de', ['176.0', '95.90']);
const AIRTEL = net(24560, 'bharti airtel ltd.  telemedia services', 'bharti airtel', 'airtel.in', ['122.171', '106.51']);
const ACT = net(24309, 'atria convergence technologies pvt. ltd.', 'act fibernet', 'actcorp.in', ['49.207', '183.82']);
const JIO = net(55836, 'reliance jio infocomm limited', 'reliance jio', 'jio.com', ['49.36', '157.45']);
const TATA = net(4755, 'tata communications limited', 'tata communications', 'tatacommunications.com', ['115.113']);
const TELSTRA = net(1221, 'telstra limited', 'telstra', 'telstra.com.au', ['120.144', '58.168']);
const OPTUS = net(4804, 'singtel optus pty ltd', 'optus', 'optus.com.au', ['49.180', '211.28']);

const location = (city: string, state: string, country: string, postalCodes: string[], lat: number, lon: number): Location => ({ city, state, country, postalCodes, lat, lon });

const SAN_FRANCISCO = location('San Francisco', 'California', 'United States', ['94107', '94110', '94117', '94122'], 37.7749, -122.4194);
const OAKLAND = location('Oakland', 'California', 'United States', ['94606', '94610', '94611'], 37.8044, -122.2712);
const NEW_YORK = location('New York', 'New York', 'United States', ['10001', '10011', '11201', '11215'], 40.7128, -74.006);
const AUSTIN = location('Austin', 'Texas', 'United States', ['78701', '78704', '78745'], 30.2672, -97.7431);
const TORONTO = location('Toronto', 'Ontario', 'Canada', ['M5V', 'M4M', 'M6K'], 43.6532, -79.3832);
const LONDON = location('London', 'England', 'United Kingdom', ['EC1V', 'E2', 'SE1', 'N1'], 51.5072, -0.1276);
const DUBLIN = location('Dublin', 'Leinster', 'Ireland', ['D02', 'D04', 'D08'], 53.3498, -6.2603);
const BERLIN = location('Berlin', 'Land Berlin', 'Germany', ['10115', '10245', '10997'], 52.52, 13.405);
const BENGALURU = location('Bengaluru', 'Karnataka', 'India', ['560001', '560034', '560102'], 12.9716, 77.5946);
const SYDNEY = location('Sydney', 'New South Wales', 'Australia', ['2000', '2010', '2037'], -33.8688, 151.2093);
const AMSTERDAM = location('Amsterdam', 'North Holland', 'Netherlands', ['1012'], 52.374, 4.8897);
const BUCHAREST = location('Bucharest', 'Bucuresti', 'Romania', ['030167'], 44.4268, 26.1025);
const ROUBAIX = location('Roubaix', 'Hauts-de-France', 'France', ['59100'], 50.6942, 3.1746);
const SAN_JOSE = location('San Jose', 'California', 'United States', ['95131'], 37.3382, -121.8863);

/** The networks people of a place connect through. */
interface PlaceNetworks {
  readonly office: Network;
  readonly home: readonly Network[];
  readonly mobile: readonly Network[];
}

const place = (where: Location, people: Pick<Place, 'utcOffsetHours' | 'share' | 'office'>, networks: PlaceNetworks): Place => ({
  ...where,
  ...people,
  officeNetwork: networks.office,
  homeNetworks: networks.home,
  mobileNetworks: networks.mobile,
});

export const PLACES: readonly Place[] = [
  place(SAN_FRANCISCO, { utcOffsetHours: -8, share: 0.3, office: true }, { office: ZAYO, home: [COMCAST, ATT], mobile: [TMOBILE_US, VERIZON_WIRELESS] }),
  place(OAKLAND, { utcOffsetHours: -8, share: 0.06, office: false }, { office: ZAYO, home: [COMCAST, ATT], mobile: [TMOBILE_US] }),
  place(NEW_YORK, { utcOffsetHours: -5, share: 0.14, office: true }, { office: LUMEN, home: [VERIZON_FIOS, SPECTRUM], mobile: [VERIZON_WIRELESS, TMOBILE_US] }),
  place(AUSTIN, { utcOffsetHours: -6, share: 0.07, office: false }, { office: LUMEN, home: [SPECTRUM, ATT], mobile: [ATT, TMOBILE_US] }),
  place(TORONTO, { utcOffsetHours: -5, share: 0.05, office: false }, { office: BELL, home: [ROGERS, BELL], mobile: [ROGERS] }),
  place(LONDON, { utcOffsetHours: 0, share: 0.12, office: true }, { office: COLT, home: [BT, VIRGIN_UK], mobile: [EE] }),
  place(DUBLIN, { utcOffsetHours: 0, share: 0.05, office: false }, { office: EIR, home: [EIR, VIRGIN_IE], mobile: [THREE_IE] }),
  place(BERLIN, { utcOffsetHours: 1, share: 0.08, office: false }, { office: TELEKOM, home: [TELEKOM, VODAFONE_DE], mobile: [TELEFONICA_DE] }),
  place(BENGALURU, { utcOffsetHours: 5.5, share: 0.09, office: true }, { office: TATA, home: [AIRTEL, ACT], mobile: [JIO, AIRTEL] }),
  place(SYDNEY, { utcOffsetHours: 10, share: 0.04, office: false }, { office: TELSTRA, home: [TELSTRA, OPTUS], mobile: [TELSTRA] }),
];

export interface Location {
  readonly city: string;
  readonly state: string;
  readonly country: string;
  readonly postalCodes: readonly string[];
  readonly lat: number;
  readonly lon: number;
}

/** A place outside the org that requests come from: an attacker, or Okta's own support staff. */
export interface ExternalOrigin {
  readonly place: Location;
  readonly network: Network;
  /** First three octets of the addresses. */
  readonly ipPrefix: string;
  readonly isProxy: boolean;
}

/**
 * Where attackers connect from: a VPN exit that Okta flags as an anonymizing proxy, a residential
 * line, and a rented server in a hosting provider's data centre (in a country where the org has
 * nobody). Addresses are RFC 5737 documentation addresses.
 */
export const ATTACKER_ORIGINS: readonly [ExternalOrigin, ExternalOrigin, ExternalOrigin] = [
  {
    place: AMSTERDAM,
    network: net(9009, 'm247 europe srl', 'm247 ltd', 'm247.com', []),
    ipPrefix: '198.51.100',
    isProxy: true,
  },
  {
    place: BUCHAREST,
    network: net(8708, 'rcs & rds net', 'rcs & rds residential', 'rcs-rds.ro', []),
    ipPrefix: '203.0.113',
    isProxy: false,
  },
  {
    place: ROUBAIX,
    network: net(16276, 'ovh sas', 'ovh sas', 'ovh.net', []),
    ipPrefix: '192.0.2',
    isProxy: false,
  },
];

/** Where Okta's own support engineers connect from when a customer grants them access. */
export const SUPPORT_ORIGIN: ExternalOrigin = {
  place: SAN_JOSE,
  network: LUMEN,
  ipPrefix: '8.43.84',
  isProxy: false,
};

export const FIRST_NAMES: readonly string[] = [
  'Aaliyah', 'Aarav', 'Abigail', 'Adrian', 'Aisha', 'Alejandro', 'Alice', 'Amara', 'Amelia', 'Ananya',
  'Andre', 'Anna', 'Arjun', 'Ava', 'Beatriz', 'Ben', 'Camila', 'Carlos', 'Chen', 'Chloe',
  'Daniel', 'Deepa', 'Diego', 'Elena', 'Eli', 'Emma', 'Ethan', 'Fatima', 'Felix', 'Fiona',
  'Gabriel', 'Grace', 'Hana', 'Hannah', 'Harper', 'Hiro', 'Ibrahim', 'Isabel', 'Ivan', 'Jack',
  'James', 'Jin', 'Jonas', 'Julia', 'Kai', 'Kavya', 'Kenji', 'Laila', 'Leo', 'Liam',
  'Lucas', 'Lucia', 'Maya', 'Mei', 'Mia', 'Mohammed', 'Nadia', 'Naomi', 'Nathan', 'Nia',
  'Noah', 'Olivia', 'Omar', 'Oscar', 'Priya', 'Rafael', 'Rahul', 'Rosa', 'Ryan', 'Sakura',
  'Samuel', 'Sara', 'Sebastian', 'Sofia', 'Tariq', 'Theo', 'Valentina', 'Wei', 'Yusuf', 'Zoe',
];

export const LAST_NAMES: readonly string[] = [
  'Abbott', 'Adeyemi', 'Alvarez', 'Andersen', 'Bauer', 'Bennett', 'Brooks', 'Castillo', 'Chandra', 'Chen',
  'Cohen', 'Costa', 'Das', 'Dubois', 'Edwards', 'Fischer', 'Fitzgerald', 'Flores', 'Garcia', 'Gupta',
  'Hall', 'Hansen', 'Hernandez', 'Hoffmann', 'Ibrahim', 'Ito', 'Iyer', 'Jackson', 'Johansson', 'Kapoor',
  'Kim', 'Kowalski', 'Kumar', 'Larsen', 'Lee', 'Lopez', 'Martin', 'Mehta', 'Meyer', 'Moreau',
  'Murphy', 'Nakamura', 'Nguyen', 'Novak', "O'Brien", 'Okafor', 'Park', 'Patel', 'Petrov', 'Quinn',
  'Ramirez', 'Rao', 'Reyes', 'Rossi', 'Sato', 'Schmidt', 'Shah', 'Silva', 'Singh', 'Sullivan',
  'Suzuki', 'Tanaka', 'Thompson', 'Torres', 'Tran', 'Walsh', 'Wang', 'Weber', 'Williams', 'Wong',
];

export interface UserAgentSpec {
  readonly rawUserAgent: string;
  readonly os: string;
  readonly browser: string;
}

const ua = (rawUserAgent: string, os: string, browser: string): UserAgentSpec => ({ rawUserAgent, os, browser });

export type ComputerPlatform = 'windows' | 'mac' | 'linux';
export type PhonePlatform = 'ios' | 'android';

export const COMPUTER_AGENTS: Readonly<Record<ComputerPlatform, readonly UserAgentSpec[]>> = {
  windows: [
    ua('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Windows 10', 'CHROME'),
    ua('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36', 'Windows 10', 'CHROME'),
    ua('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68', 'Windows 10', 'EDGE_CHROMIUM'),
    ua('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Windows 10', 'FIREFOX'),
  ],
  mac: [
    ua('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Mac OS X', 'CHROME'),
    ua('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Mac OS X', 'SAFARI'),
    ua('Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:127.0) Gecko/20100101 Firefox/127.0', 'Mac OS X', 'FIREFOX'),
  ],
  linux: [
    ua('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'Linux', 'CHROME'),
    ua('Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'Linux', 'FIREFOX'),
  ],
};

export const PHONE_AGENTS: Readonly<Record<PhonePlatform, readonly UserAgentSpec[]>> = {
  ios: [
    ua('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'Mac OS X (iPhone)', 'SAFARI'),
    ua('Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'Mac OS X (iPhone)', 'SAFARI'),
  ],
  android: [
    ua('Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'Android', 'CHROME'),
  ],
};

/** Native apps that refresh their OAuth tokens in the background. */
export const NATIVE_AGENTS: readonly UserAgentSpec[] = [
  ua('Slack/24.06.10 (com.tinyspeck.chatlyio; build:24.06.10.0; iOS 17.5.1) Alamofire/5.9.1', 'iOS', 'UNKNOWN'),
  ua('Okta Verify/9.21.0 (iPhone; iOS 17.5.1) OktaVerify', 'Unknown mobile', 'UNKNOWN'),
  ua('okhttp/4.12.0', 'Unknown', 'UNKNOWN'),
];

export type SignOnMode = 'SAML_2_0' | 'OPENID_CONNECT' | 'WS_FEDERATION' | 'BOOKMARK';

export interface AppSpec {
  readonly label: string;
  /** The app's name in Okta's app catalog, used in SSO request URIs (`/app/<name>/<id>/sso/saml`). */
  readonly name: string;
  readonly signOnMode: SignOnMode;
  /** How often people open it, relative to the others. */
  readonly popularity: number;
  /** Whether the app's sign-on policy asks for a second factor every time (step-up). */
  readonly stepUp: boolean;
}

export const APPS: readonly AppSpec[] = [
  { label: 'Slack', name: 'slack', signOnMode: 'SAML_2_0', popularity: 10, stepUp: false },
  { label: 'Google Workspace', name: 'google', signOnMode: 'SAML_2_0', popularity: 9, stepUp: false },
  { label: 'Microsoft Office 365', name: 'office365', signOnMode: 'WS_FEDERATION', popularity: 7, stepUp: false },
  { label: 'Salesforce.com', name: 'salesforce', signOnMode: 'SAML_2_0', popularity: 6, stepUp: false },
  { label: 'Zoom', name: 'zoomus', signOnMode: 'SAML_2_0', popularity: 6, stepUp: false },
  { label: 'Atlassian Cloud', name: 'atlassian', signOnMode: 'SAML_2_0', popularity: 6, stepUp: false },
  { label: 'GitHub Enterprise Cloud - Organization', name: 'githubcloud', signOnMode: 'SAML_2_0', popularity: 4, stepUp: false },
  { label: 'AWS IAM Identity Center', name: 'amazon_aws_sso', signOnMode: 'SAML_2_0', popularity: 3, stepUp: true },
  { label: 'Workday', name: 'workday', signOnMode: 'SAML_2_0', popularity: 2, stepUp: true },
  { label: 'Box', name: 'boxnet', signOnMode: 'SAML_2_0', popularity: 2, stepUp: false },
  { label: 'Zendesk', name: 'zendesk', signOnMode: 'SAML_2_0', popularity: 3, stepUp: false },
  { label: 'Acme Portal', name: 'oidc_client', signOnMode: 'OPENID_CONNECT', popularity: 4, stepUp: false },
  { label: 'Tableau Cloud', name: 'oidc_client', signOnMode: 'OPENID_CONNECT', popularity: 2, stepUp: false },
];

/** Second factors as `debugData.factor` names them, with how common each is as a person's main factor. */
export const FACTORS = [
  { factor: 'OKTA_VERIFY_PUSH', share: 0.55 },
  { factor: 'SIGNED_NONCE', share: 0.22 },
  { factor: 'FIDO_WEBAUTHN', share: 0.14 },
  { factor: 'SOFT_TOKEN', share: 0.09 },
] as const;
export type FactorName = (typeof FACTORS)[number]['factor'];

/** Okta server node ids (the last group of the version-1 event UUIDs). */
export const OKTA_NODES: readonly string[] = [
  '5925e98228bd', '1f5d113f2546', '4781c6ece90f', '9134a086ef85', '0b52d7e9f1a6', '3b6a0c9d4e17',
  '6e2f8a3c7b90', '1d4f7b2e8c05', '7f1c2a9e4b3d', 'a3c40b52d7e9', 'c9d14e17f2a8', 'e8c051d4f7b2',
];
