/**
 * Hostile requests for the fuzz test (tests/fuzz.test.ts) and the longer fuzz (bench/fuzz.ts):
 * resources of the server mutated (wrong JSON types, empty values, deep nesting, huge strings, odd
 * keys, NULs, unicode) and sent by every interaction that takes a body; mutated searches; odd
 * headers, paths and methods; Bundles. Deterministic from a seed (mulberry32).
 */

export interface FuzzRequest {
  method: string;
  /** Under the FHIR base, with its query: `Patient?name:exact=x`. */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer<ArrayBuffer>;
}

/** Resources of the server the requests start from (each with its id). */
export type Corpus = Record<string, unknown>[];

/** mulberry32: a 32-bit seeded PRNG, enough to replay a run from its seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON text spliced in as is: nesting deeper than JSON.stringify goes, numbers it cannot write. */
class Raw {
  constructor(readonly text: string) {}
}

const ODD_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '',
  ' ',
  '_',
  '_id',
  'resourceType',
  'a.b',
  'extension',
  'id',
  'text',
  'contained',
  '\u0000',
  'ñ',
  '😀',
  'valueString',
  'fhir_comments',
  '$ref',
];
const TYPES = [
  'Patient',
  'Observation',
  'Encounter',
  'Condition',
  'CarePlan',
  'Task',
  'CareTeam',
  'Consent',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Provenance',
  'AuditEvent',
  'Bundle',
  'Binary',
  'ValueSet',
  'Nothing',
  'patient',
  '',
];
const SEARCH_PARAMS = [
  '_id',
  '_lastUpdated',
  '_count',
  '_sort',
  '_include',
  '_revinclude',
  '_summary',
  '_elements',
  '_total',
  '_has',
  '_content',
  '_text',
  '_tag',
  '_profile',
  '_security',
  '_list',
  '_format',
  '_pretty',
  '_since',
  '_at',
  '_type',
  '_offset',
  'name',
  'family',
  'given',
  'birthdate',
  'identifier',
  'gender',
  'general-practitioner',
  'organization',
  'address-city',
  'telecom',
  'active',
  'code',
  'subject',
  'patient',
  'date',
  'value-quantity',
  'value-string',
  'status',
  'category',
  'encounter',
  'performer',
  'combo-code',
  'component-code-value-quantity',
  'participant',
  'member',
  'period',
  'intent',
  'owner',
  'focus',
  'authored-on',
  'unknown-param',
];
const MODIFIERS = [
  '',
  '',
  '',
  ':exact',
  ':contains',
  ':missing',
  ':not',
  ':text',
  ':above',
  ':below',
  ':in',
  ':not-in',
  ':of-type',
  ':identifier',
  ':Patient',
  ':Nothing',
  ':iterate',
  ':',
  '::',
  ':foo',
];
const CHAINS = [
  'subject:Patient.name',
  'subject.name',
  'patient.general-practitioner.name',
  '_has:Observation:subject:code',
  '_has:Observation:patient:_has:Provenance:target:agent',
  'subject:Patient._has:CareTeam:subject:status',
  'subject.subject.subject.name',
  'patient:Nothing.x',
];
const PREFIXES = ['', '', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'xx', 'gtlt', 'GE'];
const CONTENT_TYPES = [
  'application/fhir+json',
  'application/json',
  'application/fhir+json; charset=iso-8859-1',
  'text/plain',
  'application/xml',
  'application/fhir+xml',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded',
  'application/json-patch+json',
  'application/gzip',
  '',
  ';;;',
  'application/fhir+json; fhirVersion=3.0',
];
// Not TRACE or CONNECT: fetch refuses to send them.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'FOO'];

/** encodeURIComponent, which throws on a lone surrogate: that one goes as U+FFFD. */
const encode = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\ufffd'));

export class Fuzzer {
  private readonly random: () => number;

  constructor(
    seed: number,
    private readonly corpus: Corpus,
  ) {
    this.random = mulberry32(seed);
    if (!corpus.length) throw new Error('The fuzz needs resources to start from');
  }

  private int(max: number): number {
    return Math.floor(this.random() * max);
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** The next request: a mutated write mostly, then searches, odd paths and methods. */
  next(): FuzzRequest {
    const kind = this.random();
    const request = kind < 0.45 ? this.write() : kind < 0.6 ? this.bundle() : kind < 0.85 ? this.search() : this.oddPath();
    return this.chance(0.25) ? this.oddHeaders(request) : request;
  }

  // --- values ---

  private string(): string {
    switch (this.int(16)) {
      case 0:
        return '';
      case 1:
        return ' ';
      case 2:
        return `a\u0000b`;
      case 3:
        return String.fromCharCode(this.int(32));
      case 4:
        return '\ud800';
      case 5:
        return '😀'.repeat(1 + this.int(50));
      case 6:
        return 'e\u0301\u202e\ufeff\u200b';
      case 7:
        return 'x'.repeat(this.chance(0.1) ? 1_100_000 : 1 + this.int(20_000));
      case 8:
        return this.pick([
          'Patient/../..',
          'Patient?name=x',
          'urn:uuid:00000000-0000-0000-0000-000000000000',
          '#',
          '#nothing',
          'Patient/',
          '/Patient/x',
          'http://evil.example/Patient/1',
          'Patient/x/_history/abc',
        ]);
      case 9:
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${…} is one of the hostile values tried
        return this.pick(["'; DROP TABLE resource; --", '%00', '${x}', '<script>alert(1)</script>', '\\', '{"a":1}', '\\u0000', '$$', 'null', 'true']);
      case 10:
        return this.pick(['2024-13-45', '0000-00-00T99:99:99Z', '2024-02-30', '-1', '1e99', 'NaN', '2024-01-01T00:00:00+99:00', '99999-01-01']);
      case 11:
        return this.pick(['final', 'male', 'active', 'http://loinc.org', '8480-6', 'Patient/pat-1']);
      default:
        return `fuzz-${this.int(1e6)}`;
    }
  }

  private deep(): Raw {
    const depth = this.pick([50, 99, 100, 101, 1000, 3000, 100_000]);
    switch (this.int(3)) {
      case 0:
        return new Raw('['.repeat(depth) + ']'.repeat(depth));
      case 1:
        return new Raw(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
      default:
        return new Raw(`${'{"url":"http://x","extension":['.repeat(depth)}{"url":"http://x","valueString":"y"}${']}'.repeat(depth)}`);
    }
  }

  private hostile(): unknown {
    switch (this.int(14)) {
      case 0:
        return this.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, true, false, null]);
      case 1:
        return new Raw(this.pick(['1e400', '-1e400', '1E-400', '0.0000000000000000000000000001', '123456789012345678901234567890']));
      case 2:
      case 3:
      case 4:
        return this.string();
      case 5:
        return this.pick([[], {}, [[]], [{}], [null], [''], [[[]]], { '': '' }]);
      case 6:
        return this.chance(0.3) ? this.deep() : [this.string()];
      case 7:
        return this.oddKeyed({});
      case 8:
        return structuredClone(this.pick(this.corpus));
      case 9:
        return Array.from({ length: this.pick([2, 100, 5000]) }, () => this.pick(['x', {}, 1, null]));
      case 10:
        return { extension: [{ url: this.string(), valueString: this.string() }] };
      case 11:
        return { reference: this.string(), display: this.hostileScalar() };
      case 12:
        return [{ coding: [{ system: this.string(), code: this.hostileScalar() }] }];
      default:
        return { id: this.hostileScalar() };
    }
  }

  private hostileScalar(): unknown {
    return this.chance(0.6) ? this.string() : this.pick([1, true, null, [], {}]);
  }

  private oddKeyed(object: Record<string, unknown>): Record<string, unknown> {
    // An own `__proto__` property, as JSON.parse makes it (an assignment would set the prototype).
    Object.defineProperty(object, this.pick(ODD_KEYS), {
      value: this.chance(0.5) ? { polluted: true } : this.hostileScalar(),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return object;
  }

  // --- resources ---

  /** A resource of the corpus with one to three faults put in at random places (sometimes none). */
  private resource(): Record<string, unknown> {
    const resource = structuredClone(this.pick(this.corpus));
    if (this.chance(0.15)) return resource;
    for (let i = 1 + this.int(3); i > 0; i--) this.mutate(resource);
    return resource;
  }

  private mutate(resource: Record<string, unknown>): void {
    const slots: [Record<string, unknown> | unknown[], string | number][] = [];
    const collect = (value: unknown, depth: number) => {
      if (depth > 12 || value === null || typeof value !== 'object' || value instanceof Raw) return;
      for (const key of Object.keys(value)) {
        const k = Array.isArray(value) ? Number(key) : key;
        slots.push([value as Record<string, unknown>, k]);
        collect((value as Record<string, unknown>)[key], depth + 1);
      }
    };
    collect(resource, 0);
    const [holder, key] = slots.length ? this.pick(slots) : [resource, 'id'];
    const target = holder as Record<string | number, unknown>;
    switch (this.int(6)) {
      case 0:
        delete target[key];
        break;
      case 1:
        target[key] = [target[key]];
        break;
      case 2:
        target[key] = Array.isArray(target[key]) ? (target[key] as unknown[])[0] : { value: target[key] };
        break;
      case 3:
        if (!Array.isArray(holder)) this.oddKeyed(holder);
        break;
      default:
        target[key] = this.hostile();
    }
  }

  private json(value: unknown): string {
    if (value instanceof Raw) return value.text;
    if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : this.json(v))).join(',')}]`;
    if (value !== null && typeof value === 'object') {
      const parts = Object.keys(value).flatMap((k) => {
        const v = (value as Record<string, unknown>)[k];
        return v === undefined ? [] : [`${JSON.stringify(k)}:${this.json(v)}`];
      });
      return `{${parts.join(',')}}`;
    }
    return JSON.stringify(value) ?? 'null';
  }

  /** The JSON text of a body, now and then damaged below the JSON level. */
  private body(value: unknown): string | Buffer<ArrayBuffer> {
    const text = this.json(value);
    switch (this.int(20)) {
      case 0:
        return text.slice(0, this.int(text.length));
      case 1:
        return `\ufeff${text}`;
      case 2:
        return Buffer.concat([Buffer.from(text.slice(0, 20)), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(text.slice(20))]);
      case 3:
        return `${text}${text}`;
      default:
        return text;
    }
  }

  private idOf(resource: Record<string, unknown>): string {
    return typeof resource.id === 'string' && this.chance(0.8)
      ? resource.id
      : this.pick(['x', 'a'.repeat(65), 'bad id', '..', '%2e%2e', 'ñ', '-', String(this.int(1e9))]);
  }

  private typeOf(resource: Record<string, unknown>): string {
    return typeof resource.resourceType === 'string' && this.chance(0.9) ? resource.resourceType : this.pick(TYPES);
  }

  private write(): FuzzRequest {
    const resource = this.resource();
    const type = this.typeOf(resource);
    const json = { 'content-type': 'application/fhir+json' };
    switch (this.int(9)) {
      case 0:
        return { method: 'PUT', path: `${type}/${this.idOf(resource)}`, headers: json, body: this.body(resource) };
      case 1:
        return { method: 'PUT', path: `${type}?${this.query(type)}`, headers: json, body: this.body(resource) };
      case 2:
        return { method: 'POST', path: type, headers: { ...json, 'if-none-exist': this.query(type) }, body: this.body(resource) };
      case 3:
        return {
          method: 'POST',
          path: `${type}/$validate${this.chance(0.3) ? `?mode=${this.string()}&profile=${encode(this.string())}` : ''}`,
          headers: json,
          body: this.body(
            this.chance(0.5)
              ? resource
              : {
                  resourceType: 'Parameters',
                  parameter: [{ name: this.pick(['resource', 'mode', 'profile', '']), resource, valueCode: this.hostileScalar() }],
                },
          ),
        };
      case 4:
      case 5:
        return this.patch(type, this.idOf(resource));
      case 6:
        return this.operation();
      default:
        return { method: 'POST', path: type, headers: json, body: this.body(resource) };
    }
  }

  private patch(type: string, id: string): FuzzRequest {
    const ops = Array.from({ length: 1 + this.int(3) }, () => ({
      op: this.pick(['add', 'replace', 'remove', 'move', 'copy', 'test', 'frobnicate', '']),
      path: this.pick([
        '/name/0/family',
        '/name/-',
        '/name/999',
        '/__proto__/polluted',
        '/constructor/prototype/polluted',
        '',
        '/',
        '/id',
        '/resourceType',
        '/meta',
        '/extension',
        '/status',
        '/code/coding/0/code',
        '/subject/reference',
        '/x/y/z',
        '~1',
        '/text/div',
      ]),
      ...(this.chance(0.5) ? { from: this.pick(['/name', '/id', '/meta/versionId', '/nothing']) } : {}),
      value: this.hostile(),
    }));
    const document = this.chance(0.9) ? ops : this.hostile();
    return {
      method: 'PATCH',
      path: this.chance(0.8) ? `${type}/${id}` : `${type}?${this.query(type)}`,
      headers: { 'content-type': 'application/json-patch+json' },
      body: this.body(document),
    };
  }

  /** The Parameters of an operation, mutated. */
  private operation(): FuzzRequest {
    const [path, name, valueKey] = this.pick([
      ['ValueSet/$expand', 'url', 'valueUri'],
      ['ValueSet/$validate-code', 'code', 'valueCode'],
      ['CodeSystem/$lookup', 'system', 'valueUri'],
      ['CodeSystem/$subsumes', 'codeA', 'valueCode'],
      ['CodeSystem/$validate-code', 'coding', 'valueCoding'],
      [`Patient/${this.idOf(this.pick(this.corpus))}/$break-glass`, 'reason', 'valueString'],
      ['$load-package', 'name', 'valueString'],
    ] as const);
    const parameters: Record<string, unknown> = {
      resourceType: 'Parameters',
      parameter: [
        { name, [valueKey]: this.hostile() },
        { name: this.string(), part: [{ name: 'x', valueString: this.string() }] },
      ],
    };
    if (this.chance(0.3)) this.mutate(parameters);
    const gzip = path === '$load-package' && this.chance(0.5);
    return {
      method: 'POST',
      path,
      headers: { 'content-type': gzip ? 'application/gzip' : 'application/fhir+json' },
      body: gzip ? Buffer.from([0x1f, 0x8b, ...Array.from({ length: 64 }, () => this.int(256))]) : this.body(parameters),
    };
  }

  private bundle(): FuzzRequest {
    const entries = Array.from({ length: 1 + this.int(5) }, (_, i) => {
      const resource = this.resource();
      const type = this.typeOf(resource);
      const method = this.pick(['POST', 'PUT', 'PATCH', 'GET', 'DELETE', 'HEAD', 'FOO']);
      const url = this.pick([
        type,
        `${type}/${this.idOf(resource)}`,
        `${type}?${this.query(type)}`,
        '',
        'http://other.example/fhir/Patient/1',
        `${type}/$validate`,
        `${type}/${this.idOf(resource)}/_history/1`,
      ]);
      const body =
        method === 'PATCH'
          ? {
              resourceType: 'Binary',
              contentType: 'application/json-patch+json',
              data: Buffer.from(this.json([{ op: 'add', path: '/x', value: this.hostile() }])).toString('base64'),
            }
          : resource;
      return {
        fullUrl: this.chance(0.7) ? `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}` : this.hostileScalar(),
        ...(method === 'GET' || method === 'DELETE' ? {} : { resource: body }),
        request: {
          method,
          url,
          ...(this.chance(0.2) ? { ifMatch: this.pick(['W/"1"', '*', 'garbage', 'W/"99999999999999999999"']) } : {}),
          ...(this.chance(0.1) ? { ifNoneExist: this.query(type) } : {}),
        },
      };
    });
    const bundle: Record<string, unknown> = {
      resourceType: 'Bundle',
      type: this.pick(['batch', 'transaction', 'transaction', 'collection', 'document', 'x']),
      entry: entries,
    };
    if (this.chance(0.3)) this.mutate(bundle);
    return { method: 'POST', path: '', headers: { 'content-type': 'application/fhir+json' }, body: this.body(bundle) };
  }

  // --- searches ---

  private value(): string {
    const prefix = this.pick(PREFIXES);
    const values = [
      this.string().slice(0, 300),
      `${this.pick(['http://loinc.org', '', 'urn:oid:1.2.250.1.213.1.4.8', '|', 'x|y|z'])}|${this.pick(['8480-6', '', '|'])}`,
      `${this.pick(['2024', '2024-01', '2024-01-01', '2024-01-01T10:00', '2024-01-01T10:00:00Z', '20240101', 'now', '1e9'])}`,
      `${this.pick(['5.4', '-1', '1e400', '0x10', '5.4|http://unitsofmeasure.org|mg', '5.4||mg', 'abc'])}`,
      this.pick([
        'Patient/x',
        'Patient/',
        'x',
        'http://evil.example/Patient/1',
        'Observation:subject',
        '*',
        'Patient:nothing',
        'Observation:subject:Patient',
        '_count',
        'true',
        'false',
        'count',
        'text',
      ]),
    ];
    const value = `${prefix}${this.pick(values)}`;
    return this.chance(0.1) ? `${value},${value},` : value;
  }

  private query(type: string): string {
    const params = new URLSearchParams();
    for (let i = this.int(5); i >= 0; i--) {
      const name = this.chance(0.15) ? this.pick(CHAINS) : `${this.pick(SEARCH_PARAMS)}${this.pick(MODIFIERS)}`;
      params.append(name, this.value());
      if (this.chance(0.1)) params.append(name, this.value());
    }
    let query = params.toString();
    if (this.chance(0.1))
      query += this.pick(['&%ZZ=1', '&&&', '&=', '&a=%', `&${type}=1`, '&_count=-1', '&_count=100000', '&_sort=-_score', '&name:=x&name:=y']);
    return query;
  }

  private search(): FuzzRequest {
    const resource = this.pick(this.corpus);
    const type = this.chance(0.85) ? (resource.resourceType as string) : this.pick(TYPES);
    const query = this.query(type);
    switch (this.int(8)) {
      case 0:
        return { method: 'GET', path: `?${query}`, headers: {} };
      case 1:
        return { method: 'POST', path: `${type}/_search`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: query };
      case 2:
        return { method: 'GET', path: `${type}/_history?${this.pick(['_since', '_at', '_count', '_list'])}=${encode(this.value())}`, headers: {} };
      case 3:
        return { method: 'GET', path: `Patient/${this.idOf(this.pick(this.corpus))}/${type}?${query}`, headers: {} };
      case 4:
        return { method: 'HEAD', path: `${type}?${query}`, headers: {} };
      default:
        return { method: 'GET', path: `${type}?${query}`, headers: {} };
    }
  }

  // --- paths, methods, headers ---

  private oddPath(): FuzzRequest {
    const resource = this.pick(this.corpus);
    const type = resource.resourceType as string;
    const id = this.idOf(resource);
    const path = this.pick([
      `${type}/${id}`,
      `${type}/${id}/_history`,
      `${type}/${id}/_history/${this.pick(['1', '0', '-1', 'abc', '99999999999999999999', ''])}`,
      `${type}/${id}/$validate`,
      `${type}/${id}/$nothing`,
      '$nothing',
      `${type}/$reindex/x`,
      'metadata',
      `metadata?mode=${this.string().slice(0, 50)}`,
      '_history',
      `${type}/${id}/${type}/${id}`,
      '..%2f..%2fetc%2fpasswd',
      '%ZZ',
      `${type}/%00`,
      `${type}/${'a'.repeat(5000)}`,
      '//Patient',
      `${type}//${id}`,
      `${type}/${id}?_format=${encodeURIComponent(this.pick(['xml', 'json', 'text/turtle', 'application/fhir+json', 'x y']))}`,
      `${type}/${id}?_summary=${this.pick(['true', 'count', 'x', 'data', 'text'])}&_elements=${this.pick(['id', '', ',,,', 'name.family', '__proto__'])}`,
      `ValueSet/$expand?url=${encode(this.string().slice(0, 200))}`,
      `CodeSystem/$lookup?system=${encode(this.string().slice(0, 100))}&code=x`,
      `Patient/${id}/$everything`,
    ]);
    const method = this.pick(METHODS);
    const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
    return { method, path, headers: withBody ? { 'content-type': 'application/fhir+json' } : {}, ...(withBody ? { body: this.body(this.resource()) } : {}) };
  }

  private oddHeaders(request: FuzzRequest): FuzzRequest {
    const headers = { ...request.headers };
    for (let i = 1 + this.int(3); i > 0; i--) {
      switch (this.int(8)) {
        case 0:
          headers['content-type'] = this.pick(CONTENT_TYPES);
          break;
        case 1:
          headers['if-match'] = this.pick(['W/"1"', 'W/"2"', '*', '"1"', 'W/', 'W/"abc"', 'garbage', 'W/"99999999999999999999"', '']);
          break;
        case 2:
          headers['if-none-match'] = this.pick(['*', 'W/"1"', 'x', '']);
          break;
        case 3:
          headers['if-modified-since'] = this.pick(['Tue, 01 Jan 2030 00:00:00 GMT', 'yesterday', '0', '']);
          break;
        case 4:
          headers.prefer = this.pick([
            'return=minimal',
            'return=representation',
            'return=OperationOutcome',
            'return=nothing',
            'handling=strict',
            'handling=lenient',
            'respond-async',
            'return=',
            ';;;,,,',
            'handling=strict, return=minimal',
          ]);
          break;
        case 5:
          headers.accept = this.pick([
            'application/fhir+xml',
            'text/html',
            '*/*;q=0',
            'application/json;q=x',
            'application/fhir+json;q=0.1, application/xml',
            '',
          ]);
          break;
        case 6:
          headers['if-none-exist'] = this.query('Patient');
          break;
        default:
          headers['x-request-id'] = this.pick(['a'.repeat(200), '../x', 'ok-1', '']);
      }
    }
    return { ...request, headers };
  }
}
