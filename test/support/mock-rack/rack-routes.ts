import * as http from './http-handlers';
import type { HttpRouteContext, RackRouteHandler, SocketRouteContext } from './route-context';
import { RouteTable } from './route-table';
import * as socket from './socket-handlers';

/**
 * The routes this mock serves, in the registration order of pkg/api/routes.go where order matters
 * (`…/builds/{id}.tgz` before `…/builds/{id}`). Anything else, including the CLI's `GET /racks` and
 * `GET /machines` websocket probes, falls through to the rack's empty-bodied 404.
 */

const httpRoute = (handle: (context: HttpRouteContext) => void | Promise<void>): RackRouteHandler => ({ kind: 'http', handle });
const socketRoute = (handle: (context: SocketRouteContext) => Promise<void>): RackRouteHandler => ({ kind: 'socket', handle });

export function createRackRoutes(): RouteTable<RackRouteHandler> {
  return (
    new RouteTable<RackRouteHandler>()
      .add('GET', '/auth', httpRoute(http.getAuth))
      // apps
      .add('POST', '/apps/{name}/cancel', httpRoute(http.cancelApp))
      .add('POST', '/apps', httpRoute(http.createApp))
      .add('DELETE', '/apps/{name}', httpRoute(http.deleteApp))
      .add('GET', '/apps/{name}', httpRoute(http.getApp))
      .add('GET', '/apps', httpRoute(http.listApps))
      .add('SOCKET', '/apps/{name}/logs', socketRoute(socket.streamAppLogs))
      .add('PUT', '/apps/{name}', httpRoute(http.updateApp))
      // builds
      .add('POST', '/apps/{app}/builds', httpRoute(http.createBuild))
      .add('GET', '/apps/{app}/builds/{id}.tgz', httpRoute(http.exportBuild))
      .add('GET', '/apps/{app}/builds/{id}', httpRoute(http.getBuild))
      .add('POST', '/apps/{app}/builds/import', httpRoute(http.importBuild))
      .add('POST', '/apps/{app}/builds/{id}/image', httpRoute(http.importBuildImage))
      .add('GET', '/apps/{app}/builds', httpRoute(http.listBuilds))
      .add('SOCKET', '/apps/{app}/builds/{id}/logs', socketRoute(socket.streamBuildLogs))
      .add('PUT', '/apps/{app}/builds/{id}', httpRoute(http.updateBuild))
      // configs
      .add('GET', '/apps/{app}/configs', httpRoute(http.listAppConfigs))
      .add('GET', '/apps/{app}/configs/{name}', httpRoute(http.getAppConfig))
      .add('PUT', '/apps/{app}/configs/{name}', httpRoute(http.setAppConfig))
      .add('GET', '/certificates', httpRoute(http.listCertificates))
      .add('POST', '/events', httpRoute(http.sendEvent))
      // files
      .add('DELETE', '/apps/{app}/processes/{pid}/files', httpRoute(http.deleteFiles))
      .add('GET', '/apps/{app}/processes/{pid}/files', httpRoute(http.downloadFiles))
      .add('POST', '/apps/{app}/processes/{pid}/files', httpRoute(http.uploadFiles))
      // instances
      .add('POST', '/instances/keyroll', httpRoute(http.keyrollInstances))
      .add('GET', '/instances', httpRoute(http.listInstances))
      .add('SOCKET', '/instances/{id}/shell', socketRoute(socket.shellInstance))
      .add('DELETE', '/instances/{id}', httpRoute(http.terminateInstance))
      // objects
      .add('DELETE', '/apps/{app}/objects/{key:.*}', httpRoute(http.deleteObject))
      .add('HEAD', '/apps/{app}/objects/{key:.*}', httpRoute(http.objectExists))
      .add('GET', '/apps/{app}/objects/{key:.*}', httpRoute(http.fetchObject))
      .add('POST', '/apps/{app}/objects/{key:.*}', httpRoute(http.storeObject))
      // processes
      .add('SOCKET', '/apps/{app}/processes/{pid}/exec', socketRoute(socket.execProcess))
      .add('GET', '/apps/{app}/processes/{pid}', httpRoute(http.getProcess))
      .add('GET', '/apps/{app}/processes', httpRoute(http.listProcesses))
      .add('SOCKET', '/apps/{app}/processes/{pid}/logs', socketRoute(socket.streamProcessLogs))
      .add('POST', '/apps/{app}/services/{service}/processes', httpRoute(http.runProcess))
      .add('SOCKET', '/apps/{app}/services/{service}/logs', socketRoute(socket.streamServiceLogs))
      .add('DELETE', '/apps/{app}/processes/{pid}', httpRoute(http.stopProcess))
      .add('SOCKET', '/proxy/{host}/{port}', socketRoute(socket.proxyTunnel))
      // registries
      .add('POST', '/registries', httpRoute(http.addRegistry))
      .add('GET', '/registries', httpRoute(http.listRegistries))
      .add('DELETE', '/registries/{server:.*}', httpRoute(http.removeRegistry))
      // releases
      .add('POST', '/apps/{app}/releases', httpRoute(http.createRelease))
      .add('GET', '/apps/{app}/releases/{id}', httpRoute(http.getRelease))
      .add('GET', '/apps/{app}/releases', httpRoute(http.listReleases))
      .add('POST', '/apps/{app}/releases/{id}/promote', httpRoute(http.promoteRelease))
      // resources
      .add('SOCKET', '/apps/{app}/resources/{name}/console', socketRoute(socket.consoleResource))
      .add('GET', '/apps/{app}/resources/{name}/data', httpRoute(http.exportResourceData))
      .add('GET', '/apps/{app}/resources/{name}', httpRoute(http.getAppResource))
      .add('PUT', '/apps/{app}/resources/{name}/data', httpRoute(http.importResourceData))
      .add('GET', '/apps/{app}/resources', httpRoute(http.listAppResources))
      // services
      .add('GET', '/apps/{app}/services', httpRoute(http.listServices))
      .add('POST', '/apps/{app}/services/{name}/restart', httpRoute(http.restartService))
      .add('PUT', '/apps/{app}/services/{name}', httpRoute(http.updateService))
      // system
      .add('GET', '/system', httpRoute(http.getSystem))
      .add('SOCKET', '/system/logs', socketRoute(socket.streamSystemLogs))
      .add('GET', '/system/processes', httpRoute(http.listSystemProcesses))
      .add('GET', '/system/releases', httpRoute(http.listSystemReleases))
      .add('GET', '/resources/{name}', httpRoute(http.getRackResource))
      .add('GET', '/resources', httpRoute(http.listRackResources))
      .add('PUT', '/system', httpRoute(http.updateSystem))
  );
}
