import type { ExecutionContext } from '@nestjs/common';
import type { GatewayConfig } from '../../config/gateway-config';
import type { AllowedRackRequest } from '../../rbac/rack-authorizer.service';
import type { GatewaySettings } from '../../settings/gateway-settings.service';
import { RACK_ROUTES, type RackRoute } from '../../rbac/rack-route-table';
import { ReadOnlyModeError } from '../read-only.errors';
import { ReadOnlyMode } from '../read-only-mode';
import { ReadOnlyGuard } from './read-only.guard';

/** READ_ONLY from the environment; no run-time setting (test/e2e/read-only.e2e-spec.ts drives that one). */
function guard(readOnly: boolean): ReadOnlyGuard {
  const noSettings = { get: () => undefined } as unknown as GatewaySettings;
  return new ReadOnlyGuard(new ReadOnlyMode({ operations: { readOnly } } as GatewayConfig, noSettings));
}

/** A request as the policy guard leaves it: with the matched route, or none on the gateway's own API. */
function contextFor(route?: RackRoute): ExecutionContext {
  const request = { rackDecision: route ? ({ route } as AllowedRackRequest) : undefined };
  return { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
}

function passes(subject: ReadOnlyGuard, route?: RackRoute): boolean {
  try {
    return subject.canActivate(contextFor(route));
  } catch (error) {
    if (error instanceof ReadOnlyModeError) return false;
    throw error;
  }
}

describe('ReadOnlyGuard', () => {
  it('passes everything while read-only mode is off', () => {
    expect(RACK_ROUTES.filter((route) => !passes(guard(false), route))).toEqual([]);
  });

  it('in read-only mode passes exactly the rack routes whose action is read', () => {
    const readOnly = guard(true);
    for (const route of RACK_ROUTES) expect({ route, passes: passes(readOnly, route) }).toEqual({ route, passes: route.action === 'read' });
  });

  it('in read-only mode opens log streams only, of all the websockets', () => {
    const readOnly = guard(true);
    const sockets = RACK_ROUTES.filter((route) => route.method === 'SOCKET');
    expect(sockets.filter((route) => passes(readOnly, route)).map((route) => route.path)).toEqual([
      '/system/logs',
      '/apps/{name}/logs',
      '/apps/{app}/builds/{id}/logs',
      '/apps/{app}/processes/{pid}/logs',
      '/apps/{app}/services/{service}/logs',
    ]);
    expect(sockets.filter((route) => !passes(readOnly, route)).map((route) => route.path)).toEqual([
      '/proxy/{host}/{port}',
      '/apps/{app}/processes/{pid}/exec',
      '/apps/{app}/resources/{name}/console',
      '/instances/{id}/shell',
      '/instances/{id}/ssh',
      '/apps/{app}/processes/{service}/run',
    ]);
  });

  it('leaves the gateway’s own API to its routes, in read-only mode too', () => {
    expect(passes(guard(true))).toBe(true);
  });

  it('refuses with a 503 that says why', () => {
    const write = RACK_ROUTES.find((route) => route.method === 'POST' && route.path === '/apps');
    const refusal = (() => {
      try {
        return guard(true).canActivate(contextFor(write));
      } catch (error) {
        return error as ReadOnlyModeError;
      }
    })();
    expect(refusal).toBeInstanceOf(ReadOnlyModeError);
    expect((refusal as ReadOnlyModeError).getStatus()).toBe(503);
    expect((refusal as ReadOnlyModeError).message).toMatch(/^the gateway is in read-only mode: /);
  });
});
