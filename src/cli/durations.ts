import { CliError } from './cli-error.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `90s`, `15m`, `12h`, `7d`, `2w` -> seconds; undefined when `text` is not such a duration. */
export function durationSeconds(text: string): number | undefined {
  const match = /^(\d+)([smhdw])$/.exec(text.trim());
  return match ? Number(match[1]) * (UNITS[match[2] as string] as number) : undefined;
}

export function parseDuration(text: string, option: string): number {
  const seconds = durationSeconds(text);
  if (seconds === undefined)
    throw new CliError(`${option} takes a number and a unit (s, m, h, d, w), like 7d; got '${text}'`);
  return seconds;
}
