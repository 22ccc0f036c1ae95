import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UsageError } from './errors.js';

/** What `latchkey login` saves: where the service is, the credential, and a default organization. */
export interface Profile {
  url?: string;
  token?: string;
  org?: string;
}

export interface ConfigFile {
  current_profile?: string;
  profiles: Record<string, Profile>;
}

export function configFilePath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'latchkey', 'config.json');
}

/**
 * Reads the profile file, refusing one that others can read, as ssh refuses a private key: it
 * holds a credential, and a readable copy has to be assumed copied.
 */
export async function readConfigFile(path: string): Promise<ConfigFile | undefined> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (mode & 0o077) {
    throw new UsageError(
      `${path} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); it holds a credential. ` + `Run: chmod 600 ${path}`,
    );
  }
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as ConfigFile;
    if (!parsed || typeof parsed !== 'object' || typeof parsed.profiles !== 'object' || parsed.profiles === null) throw new Error('no "profiles" object');
    return parsed;
  } catch (error) {
    throw new UsageError(`${path} is not a Latchkey profile file (${(error as Error).message}); run latchkey login again`);
  }
}

/** Writes the file with mode 0600 (its directory 0700), replacing it atomically. */
export async function writeConfigFile(path: string, config: ConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}
