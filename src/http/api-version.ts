/**
 * Which `Stripe-Version` values are accepted (README, "API versions"): a version Stripe has
 * published (stripe-api-versions.ts), or a well-formed one released after that list was made, so
 * that a newer SDK keeps working before the list is updated. Anything else is Stripe's 400 "Invalid
 * Stripe API version", which Stripe also answers for a well-formed date that is no release
 * (stripe/stripe-node#2387: 2025-07-30; pay-rails/pay#680: 2022-08-02).
 */
import { STRIPE_API_VERSIONS } from './stripe-api-versions.js';

/** The version stripe-node 23.x sends by default; answered when a request names none. */
export const DEFAULT_API_VERSION = '2026-10-28.endive';

const PUBLISHED: ReadonlySet<string> = new Set(STRIPE_API_VERSIONS);
const NEWEST_DATE = (STRIPE_API_VERSIONS.at(-1) ?? '').slice(0, 10);
/** Every release since 2024-09-30 is a date and the release's name. */
const NAMED_RELEASE = /^(\d{4})-(\d{2})-(\d{2})\.[a-z]+$/;
/** Beta features ride on the version: `2020-08-27;search_api_beta=v1`. */
const BETA_FLAG = /^[a-z][a-z0-9_]*=v\d+$/;

function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** A named release dated after the newest one listed, and not after today: it may exist. */
function isLaterRelease(version: string, nowMs: number): boolean {
  const match = NAMED_RELEASE.exec(version);
  if (!match || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) return false;
  const date = version.slice(0, 10);
  return date > NEWEST_DATE && date <= new Date(nowMs).toISOString().slice(0, 10);
}

export function isAcceptedApiVersion(header: string, nowMs: number): boolean {
  const parts = header.split(';');
  const version = parts[0] ?? '';
  for (let i = 1; i < parts.length; i++) if (!BETA_FLAG.test((parts[i] as string).trim())) return false;
  return PUBLISHED.has(version) || isLaterRelease(version, nowMs);
}
