/** Roles a bearer token can have. */
export const ROLES = ['admin', 'analyst'] as const;

/** `admin` may call every admin and analytics route; `analyst` may only read `/v1/analytics/*`. */
export type Role = (typeof ROLES)[number];

/** A named bearer token and its role. */
export interface ApiToken {
  /** Name recorded as the actor in the audit log, such as `ops-bot`. */
  name: string;
  role: Role;
  token: string;
}

/** Token names: 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-". */
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Minimum length of every token. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Returns why `token` cannot be a bearer token, or undefined when it can.
 * The message gives the length only, never the token.
 */
export function checkToken(variable: string, token: string): string | undefined {
  if (token.length >= MIN_TOKEN_LENGTH && !/\s/.test(token)) return undefined;
  const rule = `${variable} must be at least ${MIN_TOKEN_LENGTH} characters without spaces`;
  if (token.length < MIN_TOKEN_LENGTH) return `${rule}, received ${token.length} characters`;
  return `${rule}, received ${token.length} characters that include whitespace`;
}

/**
 * Parses `API_TOKENS`: comma-separated `name:role:token` entries. The token is
 * everything after the second colon. Throws an Error naming the entry by its
 * position and name, never by its token.
 */
export function parseApiTokens(raw: string | undefined): ApiToken[] {
  if (raw === undefined || raw.trim() === '') return [];

  const tokens: ApiToken[] = [];
  const entries = raw.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const where = `API_TOKENS entry ${index + 1}`;
    const parts = entry.split(':');
    const [name = '', role = '', ...rest] = parts;
    const token = rest.join(':');
    if (parts.length < 3) {
      // Without its colons the entry may be a bare token, which an error must not print.
      throw new Error(`${where} must be name:role:token, with role admin or analyst`);
    }
    if (!NAME_PATTERN.test(name)) {
      throw new Error(
        `${where} must start with a name of 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-" followed by ":role:token"`,
      );
    }
    if (!(ROLES as readonly string[]).includes(role)) {
      // A value of 16 characters or more may be a token written in the role's place.
      const received = role.length < 16 ? `, received "${role}"` : '';
      throw new Error(`${where} (${name}) must have role admin or analyst${received}`);
    }
    const problem = checkToken(`${where} (${name}) token`, token);
    if (problem) throw new Error(problem);
    tokens.push({ name, role: role as Role, token });
  });
  return tokens;
}

/**
 * Returns every configured token: `ADMIN_TOKEN` as `admin`, `ANALYST_TOKEN`
 * as `analyst`, then `API_TOKENS`. Throws when two tokens share a name or a
 * value, because a caller must map to exactly one name and role.
 */
export function collectTokens(config: {
  adminToken?: string;
  analystToken?: string;
  apiTokens: readonly ApiToken[];
}): ApiToken[] {
  const tokens: ApiToken[] = [];
  if (config.adminToken !== undefined) {
    tokens.push({ name: 'admin', role: 'admin', token: config.adminToken });
  }
  if (config.analystToken !== undefined) {
    tokens.push({ name: 'analyst', role: 'analyst', token: config.analystToken });
  }
  tokens.push(...config.apiTokens);

  const names = new Set<string>();
  const values = new Set<string>();
  for (const { name, token } of tokens) {
    if (names.has(name)) throw new Error(`API token name "${name}" is used twice; names must be unique`);
    if (values.has(token)) throw new Error(`API token "${name}" has the same value as another token`);
    names.add(name);
    values.add(token);
  }
  return tokens;
}
