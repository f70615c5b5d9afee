/**
 * Form encoding the way stripe-node writes it: nested objects as `k[sub]`, arrays indexed as
 * `k[0]`, brackets literal, `encodeURIComponent` plus `! * ( ) '`, so a space is `%20`, never `+`.
 */
export type FormInput = string | number | boolean | null | undefined | FormInput[] | { [key: string]: FormInput };

const escapeComponent = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function pairs(prefix: string, value: FormInput, out: string[]): void {
  if (value === undefined) return;
  if (value === null) {
    out.push(`${prefix}=`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => {
      pairs(`${prefix}[${i}]`, item, out);
    });
  } else if (typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) pairs(`${prefix}[${escapeComponent(key)}]`, item, out);
  } else {
    out.push(`${prefix}=${escapeComponent(String(value))}`);
  }
}

export function encodeForm(params: { [key: string]: FormInput }): string {
  const out: string[] = [];
  for (const [key, value] of Object.entries(params)) pairs(escapeComponent(key), value, out);
  return out.join('&');
}
