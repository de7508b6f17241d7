import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { type Policy, PolicyRegistry } from './policy-registry.js';
import { settingsFromConfig } from './session-settings.js';

function policy(id: string, fields: Partial<Policy>): Policy {
  return {
    id,
    name: id,
    appId: null,
    userGroup: null,
    settings: {},
    createdAt: 0,
    updatedAt: 0,
    ...fields,
  };
}

describe('PolicyRegistry', () => {
  function createRegistry(): PolicyRegistry {
    const registry = new PolicyRegistry(settingsFromConfig(loadConfig({})));
    registry.putPolicy(policy('app-only', { appId: 'shop', settings: { idleTimeoutMs: 600_000 } }));
    registry.putPolicy(policy('group-only', { userGroup: 'night', settings: { idleTimeoutMs: 300_000 } }));
    registry.putPolicy(
      policy('app-and-group', { appId: 'shop', userGroup: 'night', settings: { heartbeatMs: 5_000 } }),
    );
    registry.putPolicy(policy('other-app-group', { appId: 'blog', userGroup: 'day' }));
    return registry;
  }

  it('precedence picks most specific', () => {
    const registry = createRegistry();

    const cases: Array<[Parameters<PolicyRegistry['resolve']>[0], string | null, string]> = [
      [{ appId: 'shop', userGroup: 'night' }, 'app-and-group', 'app_and_group'],
      [{ appId: 'blog', userGroup: 'night' }, 'group-only', 'group'],
      [{ appId: 'shop', userGroup: 'day' }, 'app-only', 'app'],
      [{ appId: 'shop' }, 'app-only', 'app'],
      [{ appId: 'blog', userGroup: 'day' }, 'other-app-group', 'app_and_group'],
      [{ appId: 'blog' }, null, 'default'],
      [{ appId: 'wiki', userGroup: 'day' }, null, 'default'],
    ];
    for (const [input, id, matchedBy] of cases) {
      const resolution = registry.resolve(input);
      expect(resolution.policy?.id ?? null, JSON.stringify(input)).toBe(id);
      expect(resolution.matchedBy, JSON.stringify(input)).toBe(matchedBy);
    }
  });

  it('unset fields inherit defaults', () => {
    const registry = createRegistry();

    const both = registry.resolve({ appId: 'shop', userGroup: 'night' }).settings;

    // The app-and-group policy sets only heartbeatMs, so idleTimeoutMs is the default, not
    // the value of the less specific policies.
    expect(both.heartbeatMs).toBe(5_000);
    expect(both.idleTimeoutMs).toBe(30 * 60_000);
    expect(registry.resolve({ appId: 'shop' }).settings.idleTimeoutMs).toBe(600_000);
    expect(registry.resolve({ appId: 'shop' }).settings.heartbeatMs).toBe(30_000);
  });

  it('saved settings change inherited values', () => {
    const registry = createRegistry();

    registry.setSaved({ warningMs: 10_000, maxSessionsPerUser: 2 });

    expect(registry.defaults.warningMs).toBe(10_000);
    expect(registry.resolve({ appId: 'shop' }).settings.maxSessionsPerUser).toBe(2);
    expect(registry.hasUserLimit()).toBe(true);
  });

  it('mapped group wins over sent group', () => {
    const registry = createRegistry();
    registry.setUserGroup('user-7', 'night');

    const resolution = registry.resolve({ appId: 'blog', userId: 'user-7', userGroup: 'day' });

    expect(resolution.userGroup).toBe('night');
    expect(resolution.policy?.id).toBe('group-only');
    registry.setUserGroup('user-7', null);
    expect(registry.resolve({ appId: 'blog', userId: 'user-7', userGroup: 'day' }).policy?.id).toBe(
      'other-app-group',
    );
  });

  it('policy enabled only switches off', () => {
    const registry = createRegistry();
    registry.putPolicy(policy('paused', { appId: 'wiki', settings: { enabled: false } }));
    registry.putPolicy(policy('forced-on', { appId: 'docs', settings: { enabled: true } }));

    expect(registry.resolve({ appId: 'wiki' }).settings.enabled).toBe(false);
    expect(registry.resolve({ appId: 'docs' }).settings.enabled).toBe(true);
    registry.setSaved({ enabled: false });
    expect(registry.resolve({ appId: 'docs' }).settings.enabled).toBe(false);
    expect(registry.resolve({ appId: 'blog' }).settings.enabled).toBe(false);
  });

  it('invalid stored values skipped', () => {
    const registry = new PolicyRegistry(settingsFromConfig(loadConfig({})));
    const skipped: string[] = [];

    registry.load(
      {
        settings: { idleTimeoutMs: 5, heartbeatMs: 10_000, retired: true },
        policies: [
          { id: 'p1', name: 'ok', appId: 'shop', userGroup: null, overrides: { maxTabs: 2 }, createdAt: 1, updatedAt: 1 },
          { id: 'p2', name: 'bad', appId: 'blog', userGroup: null, overrides: { maxTabs: 0 }, createdAt: 1, updatedAt: 1 },
        ],
        userGroups: new Map([['user-1', 'night']]),
      },
      (what) => skipped.push(what),
    );

    expect(skipped).toEqual(['setting idleTimeoutMs', 'setting retired', 'policy p2']);
    expect(registry.defaults.heartbeatMs).toBe(10_000);
    expect(registry.defaults.idleTimeoutMs).toBe(30 * 60_000);
    expect(registry.listPolicies().map((entry) => entry.id)).toEqual(['p1']);
    expect(registry.groupOf('user-1')).toBe('night');
  });
});
