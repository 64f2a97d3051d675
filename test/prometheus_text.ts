/**
 * A strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on anything a
 * Prometheus server would reject (bad names, bad escapes, a sample before its TYPE, a family split in two,
 * duplicate series, non-cumulative histogram buckets, a +Inf bucket that differs from _count).
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One metric family: its TYPE, HELP and samples (histogram samples carry _bucket/_sum/_count names). */
export interface Family {
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** Parses `text` into families by name; throws an Error naming the line on any violation. */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const families = new Map<string, Family>();
  const series = new Set<string>();
  let current: string | null = null;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) return;
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name`);
      const f = families.get(name) ?? { type: "untyped" as const, help: "", samples: [] };
      if (families.has(name) && current !== name) throw new Error(`${where}: family ${name} appears twice`);
      if (kind === "TYPE") {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type`);
        if (f.samples.length > 0) throw new Error(`${where}: TYPE after samples`);
        f.type = rest as Family["type"];
      } else f.help = rest;
      families.set(name, f);
      current = name;
      return;
    }
    if (line.trim() === "") throw new Error(`${where}: empty line`);
    const s = parseSample(line, where);
    const family = familyOf(s.name, families);
    if (family === null || family !== current) throw new Error(`${where}: sample outside the block of its family`);
    const key = s.name + JSON.stringify(Object.entries(s.labels).sort());
    if (series.has(key)) throw new Error(`${where}: duplicate series`);
    series.add(key);
    families.get(family)!.samples.push(s);
  });
  for (const [name, f] of families) if (f.type === "histogram") checkHistogram(name, f);
  return families;
}

function familyOf(sample: string, families: Map<string, Family>): string | null {
  if (families.has(sample)) return sample;
  const m = /^(.*)_(bucket|sum|count)$/.exec(sample);
  return m && families.get(m[1]!)?.type === "histogram" ? m[1]! : null;
}

function parseSample(line: string, where: string): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line);
  if (!m) throw new Error(`${where}: not a sample line`);
  const labels: Record<string, string> = {};
  let body = m[2] ? m[2].slice(1, -1) : "";
  while (body !== "") {
    const lm = /^([^=]+)="((?:[^"\\]|\\[\\"n])*)"(,|$)/.exec(body);
    if (!lm || !LABEL.test(lm[1]!)) throw new Error(`${where}: bad label set`);
    if (lm[1]! in labels) throw new Error(`${where}: label ${lm[1]} twice`);
    labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
    body = body.slice(lm[0].length);
    if (lm[3] === "," && body === "") throw new Error(`${where}: trailing comma`);
  }
  const raw = m[3]!;
  const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : raw === "NaN" ? NaN : Number(raw);
  if (!/^[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|Inf|NaN)$/.test(raw) || (Number.isNaN(value) && raw !== "NaN")) throw new Error(`${where}: bad value`);
  return { name: m[1]!, labels, value };
}

function checkHistogram(name: string, f: Family): void {
  const groups = new Map<string, Sample[]>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    if (s.name === `${name}_bucket` && le === undefined) throw new Error(`${name}: bucket without le`);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, samples] of groups) {
    const buckets = samples.filter((s) => s.name === `${name}_bucket`);
    const count = samples.find((s) => s.name === `${name}_count`);
    const inf = buckets.find((b) => b.labels.le === "+Inf");
    if (!inf || !count || !samples.some((s) => s.name === `${name}_sum`)) throw new Error(`${name}${key}: needs +Inf bucket, _sum and _count`);
    if (inf.value !== count.value) throw new Error(`${name}${key}: +Inf bucket differs from _count`);
    for (let i = 1; i < buckets.length; i++) {
      if (Number(buckets[i]!.labels.le) <= Number(buckets[i - 1]!.labels.le) && buckets[i]!.labels.le !== "+Inf") throw new Error(`${name}${key}: le not ascending`);
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${name}${key}: buckets not cumulative`);
    }
  }
}

/** The value of the series `name` with exactly `labels` (0 when absent: a counter that never moved). */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = familyOf(name, families);
  if (family === null) throw new Error(`no family for ${name}`);
  const want = JSON.stringify(Object.entries(labels).sort());
  const s = families.get(family)!.samples.find((x) => x.name === name && JSON.stringify(Object.entries(x.labels).sort()) === want);
  return s?.value ?? 0;
}

/** Fetches `url` with the bearer `token` and parses the exposition (asserting the 0.0.4 content type). */
export async function scrape(url: string, token: string): Promise<Map<string, Family>> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`scrape ${url}: HTTP ${res.status}`);
  if (res.headers.get("content-type") !== "text/plain; version=0.0.4") throw new Error(`scrape ${url}: content-type ${res.headers.get("content-type")}`);
  return parsePrometheusText(await res.text());
}
