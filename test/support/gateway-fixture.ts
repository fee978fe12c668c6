import { type MockRack, type MockRackOptions, startMockRack } from './mock-rack';
import { type TestGateway, type TestGatewayOptions, startTestGateway } from './test-gateway';

type GatewaySettings = Omit<TestGatewayOptions, 'rackUrl' | 'rackToken'> & { readonly rack?: MockRackOptions };

export interface RackAndGateway {
  readonly rack: MockRack;
  readonly gateway: TestGateway;
}

/**
 * A mock rack and a gateway in front of it for the enclosing `describe`: started before its tests,
 * closed after them. Settings may be computed when the suite starts (a free port, say).
 */
export function rackAndGateway(settings: GatewaySettings | (() => Promise<GatewaySettings>) = {}): RackAndGateway {
  let rack: MockRack | undefined;
  let gateway: TestGateway | undefined;
  beforeAll(async () => {
    const { rack: rackOptions, ...gatewayOptions } = typeof settings === 'function' ? await settings() : settings;
    rack = await startMockRack(rackOptions);
    gateway = await startTestGateway({ rackUrl: rack.url, rackToken: rack.password, ...gatewayOptions });
  });
  afterAll(async () => {
    await gateway?.close();
    await rack?.close();
  });
  return {
    get rack() {
      if (!rack) throw new Error('the rack starts in beforeAll');
      return rack;
    },
    get gateway() {
      if (!gateway) throw new Error('the gateway starts in beforeAll');
      return gateway;
    },
  };
}
