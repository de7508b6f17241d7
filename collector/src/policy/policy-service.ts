import { randomUUID } from 'node:crypto';
import type { SessionService } from '../session-service.js';
import type { AuditActor, AuditInput, Storage } from '../storage/index.js';
import type { Policy } from './policy-registry.js';
import {
  applyPatch,
  checkSettings,
  type SessionSettings,
  SETTING_NAMES,
  type SettingsPatch,
} from './session-settings.js';

/** A change the service rejected: the path of the field to fix and why. */
export interface PolicyProblem {
  path: string[];
  message: string;
}

/** Result of a change: its value and the live sessions it was applied to, or the problem. */
export type ChangeResult<T> =
  | { isOk: true; value: T; liveSessions: number }
  | { isOk: false; problem: PolicyProblem };

/** The fields of a policy an admin sets. */
export interface PolicyInput {
  name: string;
  appId: string | null;
  userGroup: string | null;
  settings: SettingsPatch;
}

/**
 * Admin changes to the settings, custom policies and user group map. Each
 * change is validated, saved with its audit entry, applied in memory, then
 * applied to every live session, whose SDKs get the new policy through the
 * stream. Changes run one at a time.
 */
export class PolicyService {
  readonly #sessions: SessionService;
  readonly #storage: Storage;
  readonly #now: () => number;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: { sessions: SessionService; storage: Storage; now: () => number }) {
    this.#sessions = options.sessions;
    this.#storage = options.storage;
    this.#now = options.now;
  }

  /** Returns the default settings in force. */
  async getSettings(): Promise<SessionSettings> {
    await this.#sessions.ready();
    return this.#sessions.policies.defaults;
  }

  /** Changes the fields of the default settings that `patch` sets. */
  updateSettings(patch: SettingsPatch, actor: AuditActor): Promise<ChangeResult<SessionSettings>> {
    return this.#serialize(async () => {
      const registry = this.#sessions.policies;
      const before = registry.defaults;
      const after = applyPatch(before, patch);
      const problem = this.#checkAll(after);
      if (problem) return { isOk: false, problem };

      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const name of SETTING_NAMES) {
        if (patch[name] !== undefined && patch[name] !== before[name]) {
          changes[name] = { from: before[name], to: patch[name] };
        }
      }
      // Values equal to the ones in force are still saved, which pins them, but change nothing.
      const isChanged = Object.keys(changes).length > 0;
      const audit = isChanged
        ? this.#audit(actor, 'settings.update', 'settings', null, { changes })
        : undefined;
      await this.#storage.admin.saveSettings(patch, this.#now(), audit);
      registry.setSaved({ ...registry.saved, ...patch });
      const liveSessions = isChanged ? await this.#sessions.reapplyPolicies(actor) : 0;
      return { isOk: true, value: registry.defaults, liveSessions };
    });
  }

  /** Creates a policy. */
  createPolicy(input: PolicyInput, actor: AuditActor): Promise<ChangeResult<Policy>> {
    return this.#serialize(async () => {
      const now = this.#now();
      const policy: Policy = { id: randomUUID(), ...input, createdAt: now, updatedAt: now };
      return this.#savePolicy(policy, actor, 'policy.create');
    });
  }

  /** Replaces every field of a policy; undefined when the id is unknown. */
  replacePolicy(
    id: string,
    input: PolicyInput,
    actor: AuditActor,
  ): Promise<ChangeResult<Policy> | undefined> {
    return this.#serialize(async () => {
      const existing = this.#sessions.policies.getPolicy(id);
      if (!existing) return undefined;
      const policy: Policy = { ...existing, ...input, updatedAt: this.#now() };
      return this.#savePolicy(policy, actor, 'policy.update');
    });
  }

  /** Deletes a policy; its sessions fall back to the next match. Undefined when the id is unknown. */
  deletePolicy(id: string, actor: AuditActor): Promise<{ liveSessions: number } | undefined> {
    return this.#serialize(async () => {
      const registry = this.#sessions.policies;
      const policy = registry.getPolicy(id);
      if (!policy) return undefined;

      const details = { name: policy.name, appId: policy.appId, userGroup: policy.userGroup };
      await this.#storage.admin.deletePolicy(id, this.#audit(actor, 'policy.delete', 'policy', id, details));
      registry.removePolicy(id);
      return { liveSessions: await this.#sessions.reapplyPolicies(actor) };
    });
  }

  /** Maps a user to a group, or removes the mapping when `group` is null. */
  setUserGroup(userId: string, group: string | null, actor: AuditActor): Promise<number> {
    return this.#serialize(async () => {
      await this.#sessions.ready();
      const action = group === null ? 'user_group.delete' : 'user_group.set';
      const audit = this.#audit(actor, action, 'user_group', userId, { userGroup: group });
      await this.#storage.admin.saveUserGroup(userId, group, audit);
      this.#sessions.policies.setUserGroup(userId, group);
      return this.#sessions.reapplyPolicies(actor);
    });
  }

  async #savePolicy(
    policy: Policy,
    actor: AuditActor,
    action: 'policy.create' | 'policy.update',
  ): Promise<ChangeResult<Policy>> {
    await this.#sessions.ready();
    const problem = this.#checkPolicy(policy);
    if (problem) return { isOk: false, problem };

    const { settings, ...fields } = policy;
    const details = { name: policy.name, appId: policy.appId, userGroup: policy.userGroup, settings };
    await this.#storage.admin.savePolicy(
      { ...fields, overrides: settings },
      this.#audit(actor, action, 'policy', policy.id, details),
    );
    this.#sessions.policies.putPolicy(policy);
    const liveSessions = await this.#sessions.reapplyPolicies(actor);
    return { isOk: true, value: policy, liveSessions };
  }

  /** Checks a policy's name and match against the others, and its settings against the defaults. */
  #checkPolicy(policy: Policy): PolicyProblem | undefined {
    const registry = this.#sessions.policies;
    for (const other of registry.listPolicies()) {
      if (other.id === policy.id) continue;
      if (other.name === policy.name) {
        return { path: ['name'], message: `must be unique; policy ${other.id} is named "${other.name}"` };
      }
      if (other.appId === policy.appId && other.userGroup === policy.userGroup) {
        return {
          path: ['appId'],
          message: `policy "${other.name}" (${other.id}) already matches this appId and userGroup`,
        };
      }
    }

    const problem = checkSettings(registry.settingsOf(policy));
    if (!problem) return undefined;
    const isSet = policy.settings[problem.field] !== undefined;
    const message = isSet ? problem.message : `${problem.message} (inherited from the defaults)`;
    return { path: ['settings', problem.field], message };
  }

  /** Checks new default settings, and every policy that inherits from them. */
  #checkAll(defaults: SessionSettings): PolicyProblem | undefined {
    const problem = checkSettings(defaults);
    if (problem) return { path: [problem.field], message: problem.message };

    const registry = this.#sessions.policies;
    for (const policy of registry.listPolicies()) {
      const inherited = checkSettings(registry.settingsOf(policy, defaults));
      if (inherited) {
        const message = `${inherited.message} under policy "${policy.name}" (${policy.id})`;
        return { path: [inherited.field], message };
      }
    }
    return undefined;
  }

  #audit(
    actor: AuditActor,
    action: string,
    targetType: string,
    targetId: string | null,
    details: Record<string, unknown>,
  ): AuditInput {
    return {
      createdAt: this.#now(),
      actorName: actor.name,
      actorRole: actor.role,
      action,
      targetType,
      targetId,
      reason: null,
      details,
    };
  }

  /** Runs `work` after every earlier change has finished, so two changes never interleave. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = async () => {
      await this.#sessions.ready();
      return work();
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => {});
    return result;
  }
}
