/** Clouds and regions where Flink API keys may be scoped, as `<cloud>.<region>`. */
export const FLINK_REGIONS = [
  { cloud: 'aws', region: 'us-east-1', display_name: 'N. Virginia (us-east-1)' },
  { cloud: 'aws', region: 'us-east-2', display_name: 'Ohio (us-east-2)' },
  { cloud: 'aws', region: 'us-west-2', display_name: 'Oregon (us-west-2)' },
  { cloud: 'aws', region: 'eu-central-1', display_name: 'Frankfurt (eu-central-1)' },
  { cloud: 'aws', region: 'eu-west-1', display_name: 'Ireland (eu-west-1)' },
  { cloud: 'aws', region: 'ap-southeast-1', display_name: 'Singapore (ap-southeast-1)' },
  { cloud: 'gcp', region: 'us-central1', display_name: 'Iowa (us-central1)' },
  { cloud: 'gcp', region: 'us-east1', display_name: 'South Carolina (us-east1)' },
  { cloud: 'gcp', region: 'europe-west1', display_name: 'Belgium (europe-west1)' },
  { cloud: 'gcp', region: 'asia-south1', display_name: 'Mumbai (asia-south1)' },
  { cloud: 'azure', region: 'eastus', display_name: 'Virginia (eastus)' },
  { cloud: 'azure', region: 'westus2', display_name: 'Washington (westus2)' },
  { cloud: 'azure', region: 'westeurope', display_name: 'Netherlands (westeurope)' },
] as const;

export function isFlinkRegion(cloud: string, region: string): boolean {
  return FLINK_REGIONS.some((r) => r.cloud === cloud && r.region === region);
}

/** `env-abc123.aws.us-east-2` → its parts, or null when the text is not of that form. */
export function parseFlinkScope(text: string): { environmentId: string; cloud: string; region: string } | null {
  const match = /^(env-[a-z0-9]+)\.([a-z]+)\.([a-z0-9-]+)$/.exec(text);
  return match ? { environmentId: match[1]!, cloud: match[2]!, region: match[3]! } : null;
}
