import type { PolicyRow, StoredPolicyState } from '../storage/index.js';
import {
  applyPatch,
  type SessionSettings,
  SETTING_NAMES,
  type SettingsPatch,
  settingsPatchSchema,
} from './session-settings.js';

/** A named custom policy: settings that apply to an app, a user group, or both. */
export interface Policy {
  id: string;
  name: string;
  /** App id the policy matches, or null for any app. */
  appId: string | null;
  /** User group the policy matches, or null for any group. */
  userGroup: string | null;
  /** Settings the policy sets; the others come from the default settings. */
  settings: SettingsPatch;
  createdAt: number;
  updatedAt: number;
}

/** How a policy matched: the most specific match wins, then the default settings. */
export type PolicyMatch = 'app_and_group' | 'group' | 'app' | 'default';

/** The policy that applies to an app and user, and the settings in force. */
export interface Resolution {
  /** The matching custom policy, or null when the default settings apply. */
  policy: Policy | null;
  matchedBy: PolicyMatch;
  /** Group of the user: the server-side map first, then the group the batch sent. */
  userGroup: string | null;
  /** Every setting in force: the policy's values, and the defaults for the others. */
  settings: SessionSettings;
}

/** Who a resolution is for. */
export interface ResolveInput {
  appId: string;
  userId?: string | null;
  userGroup?: string | null;
}

/**
 * The default settings, custom policies and user group map, held in memory so
 * that the write path can resolve a policy synchronously. The admin API
 * changes them here only after the database has committed the change.
 */
export class PolicyRegistry {
  readonly #configDefaults: SessionSettings;
  #saved: SettingsPatch = {};
  readonly #policies = new Map<string, Policy>();
  readonly #userGroups = new Map<string, string>();

  constructor(configDefaults: SessionSettings) {
    this.#configDefaults = configDefaults;
  }

  /**
   * Replaces the state with the stored one. A stored value that no longer
   * validates is skipped and reported through `onInvalid`.
   */
  load(stored: StoredPolicyState, onInvalid: (what: string) => void = () => {}): void {
    this.#saved = {};
    for (const [name, value] of Object.entries(stored.settings)) {
      const result = settingsPatchSchema.safeParse({ [name]: value });
      if (result.success) Object.assign(this.#saved, result.data);
      else onInvalid(`setting ${name}`);
    }

    this.#policies.clear();
    for (const row of stored.policies) {
      const result = settingsPatchSchema.safeParse(row.overrides);
      if (result.success) this.putPolicy(toPolicy(row, result.data));
      else onInvalid(`policy ${row.id}`);
    }

    this.#userGroups.clear();
    for (const [userId, group] of stored.userGroups) this.#userGroups.set(userId, group);
  }

  /** The default settings: the config's values, overridden by those saved through the API. */
  get defaults(): SessionSettings {
    return applyPatch(this.#configDefaults, this.#saved);
  }

  /** Replaces the saved setting values. */
  setSaved(patch: SettingsPatch): void {
    this.#saved = { ...patch };
  }

  /** The setting values saved through the API. */
  get saved(): SettingsPatch {
    return { ...this.#saved };
  }

  /** Lists every policy, oldest first. */
  listPolicies(): Policy[] {
    return [...this.#policies.values()];
  }

  /** Returns a policy by id. */
  getPolicy(id: string): Policy | undefined {
    return this.#policies.get(id);
  }

  /** Adds or replaces a policy. */
  putPolicy(policy: Policy): void {
    this.#policies.set(policy.id, policy);
  }

  /** Removes a policy. */
  removePolicy(id: string): void {
    this.#policies.delete(id);
  }

  /** Returns the group the server maps a user to. */
  groupOf(userId: string | null | undefined): string | undefined {
    return userId ? this.#userGroups.get(userId) : undefined;
  }

  /** Maps a user to a group, or removes the mapping when `group` is null. */
  setUserGroup(userId: string, group: string | null): void {
    if (group === null) this.#userGroups.delete(userId);
    else this.#userGroups.set(userId, group);
  }

  /** Lists the user group map, by user id. */
  listUserGroups(): Array<{ userId: string; userGroup: string }> {
    return [...this.#userGroups]
      .map(([userId, userGroup]) => ({ userId, userGroup }))
      .sort((a, b) => (a.userId < b.userId ? -1 : 1));
  }

  /**
   * Returns the policy for an app and user. Precedence: a policy matching
   * both app and group, then one matching the group only, then one matching
   * the app only, then the default settings.
   */
  resolve(input: ResolveInput): Resolution {
    const userGroup = this.groupOf(input.userId) ?? input.userGroup ?? null;
    let app: Policy | undefined;
    let group: Policy | undefined;
    let both: Policy | undefined;
    for (const policy of this.#policies.values()) {
      const isAppMatch = policy.appId === input.appId;
      const isGroupMatch = userGroup !== null && policy.userGroup === userGroup;
      if (isAppMatch && isGroupMatch) both = policy;
      else if (isGroupMatch && policy.appId === null) group = policy;
      else if (isAppMatch && policy.userGroup === null) app = policy;
    }

    const policy = both ?? group ?? app ?? null;
    const matchedBy: PolicyMatch = both ? 'app_and_group' : group ? 'group' : app ? 'app' : 'default';
    return { policy, matchedBy, userGroup, settings: this.settingsOf(policy) };
  }

  /**
   * Returns the settings in force under `policy`. `enabled` only switches
   * off: a policy can stop tracking for its match, but cannot keep it on
   * when the default `enabled` is false.
   */
  settingsOf(policy: Policy | null, defaults: SessionSettings = this.defaults): SessionSettings {
    if (!policy) return defaults;
    const settings = applyPatch(defaults, policy.settings);
    settings.enabled = defaults.enabled && (policy.settings.enabled ?? true);
    return settings;
  }

  /** Returns whether the defaults or any policy limit the sessions per user. */
  hasUserLimit(): boolean {
    if (this.defaults.maxSessionsPerUser !== null) return true;
    return this.listPolicies().some((policy) => this.settingsOf(policy).maxSessionsPerUser !== null);
  }
}

/** Converts a stored policy row with validated overrides into a `Policy`. */
export function toPolicy(row: PolicyRow, settings: SettingsPatch): Policy {
  const ordered: SettingsPatch = {};
  for (const name of SETTING_NAMES) {
    if (settings[name] !== undefined) Object.assign(ordered, { [name]: settings[name] });
  }
  const { id, name, appId, userGroup, createdAt, updatedAt } = row;
  return { id, name, appId, userGroup, settings: ordered, createdAt, updatedAt };
}
