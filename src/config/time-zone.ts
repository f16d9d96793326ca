import { IANAZone } from 'luxon';
import { closestName } from './closest-name.js';
import { parsed, rejected, type ParseResult } from './parse-result.js';

/**
 * Where a time zone comes from: a fixed IANA zone (`Europe/Paris`), or a customer profile field
 * holding one (`customer.timezone`, as in the specification's schedules), read at fire time.
 */
export type TimeZoneSetting =
  | { readonly kind: 'zone'; readonly text: string; readonly zone: string }
  | { readonly kind: 'customer_field'; readonly text: string; readonly field: string };

const CUSTOMER_FIELD = /^customer(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

let knownZones: readonly string[] | undefined;
function zoneNames(): readonly string[] {
  knownZones ??= Intl.supportedValuesOf('timeZone');
  return knownZones;
}

/** Checks an IANA time zone name with luxon; suggests the closest known zone on a typo. */
export function parseZoneName(text: string): ParseResult<string> {
  const zone = text.trim();
  if (zone !== '' && IANAZone.isValidZone(zone)) return parsed(zone);
  const suggestion = zone === '' ? undefined : closestName(zone, zoneNames());
  const hint = suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`;
  return rejected(
    `expected an IANA time zone such as 'Europe/Paris' or 'UTC'; found '${text}'${hint}`,
  );
}

/** Parses a zone setting: an IANA zone name, or `customer.<field>` naming a profile field. */
export function parseTimeZone(text: string): ParseResult<TimeZoneSetting> {
  const trimmed = text.trim();
  if (trimmed.startsWith('customer.')) {
    if (!CUSTOMER_FIELD.test(trimmed)) {
      return rejected(
        `expected a customer field path such as 'customer.timezone'; found '${text}'`,
      );
    }
    return parsed({ kind: 'customer_field', text, field: trimmed });
  }
  const zone = parseZoneName(trimmed);
  if (!zone.ok) return rejected(`${zone.message}; or a customer field such as 'customer.timezone'`);
  return parsed({ kind: 'zone', text, zone: zone.value });
}
