import type { Command } from 'commander';
import type { Cli } from '../runtime.js';
import { registerOrgCommands } from './org.js';

/**
 * The command groups, in the order `latchkey --help` lists them. A new credential family adds one
 * file in this directory (modelled on api-key.ts) and one line here.
 */
export const commandGroups: ((program: Command, cli: Cli) => void)[] = [
  registerOrgCommands,
];
