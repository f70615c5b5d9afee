/**
 * A prepared statement's values written into its SQL, for a statement that has to travel in a simple
 * query (which carries no parameters) with others: a held-back BEGIN or write and what follows it
 * (translating-pool.ts). Only SQL the code compiled (prepared-query.ts) comes here, whose `$n` are
 * all placeholders; every value goes in as a literal escaped by the driver, or is refused.
 */
export function inlineParameters(
  text: string,
  parameters: readonly unknown[],
  escapeLiteral: (value: string) => string,
): string {
  return text.replace(/\$(\d+)/g, (_placeholder, index: string) => {
    const value = parameters[Number(index) - 1];
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'string') return escapeLiteral(value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
    if (typeof value === 'bigint') return String(value);
    if (typeof value === 'boolean') return String(value);
    // bytea's hex input: hex digits only, in an escape string so that the backslash means itself
    // whatever standard_conforming_strings says.
    if (value instanceof Uint8Array) {
      return `E'\\\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}'::bytea`;
    }
    throw new TypeError(`no literal for a value of type ${typeof value}`);
  });
}
