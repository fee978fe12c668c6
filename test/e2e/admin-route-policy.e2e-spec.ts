import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { Authorize } from '../../src/rbac/decorators/authorize.decorator';
import { rackAndGateway } from '../support/gateway-fixture';

/** Routes as a module added later might write them: one forgets @Authorize, one carries it. */
@Controller('api/v1/added')
class AddedController {
  @Get('forgotten')
  forgotten(): { reached: true } {
    return { reached: true };
  }

  @Get('declared')
  @Authorize()
  declared(): { reached: true } {
    return { reached: true };
  }
}

@Module({ controllers: [AddedController] })
class AddedModule {}

describe('an admin route', () => {
  const fixture = rackAndGateway({ wrapModule: (appModule: DynamicModule) => ({ module: AddedModule, imports: [appModule] }) });
  let admin: string;

  beforeAll(async () => {
    ({ token: admin } = await fixture.gateway.createUserWithToken('admin@example.com', 'admin'));
  });

  const get = (path: string) => fetch(`${fixture.gateway.url}${path}`, { headers: { authorization: `Bearer ${admin}` } });

  it('without @Authorize is refused even to an admin: nothing is reachable by omission', async () => {
    const response = await get('/api/v1/added/forgotten');
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: 'permission_denied', detail: 'this route declares no permission' });
  });

  it('with @Authorize() admits any authenticated caller, and no one else', async () => {
    expect(await (await get('/api/v1/added/declared')).json()).toEqual({ reached: true });
    expect((await fetch(`${fixture.gateway.url}/api/v1/added/declared`)).status).toBe(401);
  });
});
