/** The value of one sample line of Prometheus text, e.g. `http_requests_total{method="GET",route="/x",status="200"}`. */
export function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}
