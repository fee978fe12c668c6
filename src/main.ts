import 'reflect-metadata';
import { createGateway } from './bootstrap';
import { InvalidConfigurationError } from './config/environment-variables';
import { GatewayConfig, loadGatewayConfig } from './config/gateway-config';

function loadConfigOrExit(): GatewayConfig {
  try {
    return loadGatewayConfig();
  } catch (error) {
    if (error instanceof InvalidConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createGateway({ config });
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
}

void main();
