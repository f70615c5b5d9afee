/**
 * JSON as Stripe writes it (README, "Responses"): two-space indent and a final newline. A 404 that
 * api.stripe.com sent, quoted with its headers in stripe/stripe-mock#312, has exactly these bytes
 * (its Content-Length counts the newline).
 */
export const stripeJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
