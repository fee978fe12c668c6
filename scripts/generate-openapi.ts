import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createGateway, createOpenApiDocument } from '../src/bootstrap';
import { loadGatewayConfig } from '../src/config/gateway-config';

/**
 * `npm run openapi:generate`: writes the OpenAPI document to openapi.json. It is committed, and a test
 * fails when the code and the committed document drift apart, so API changes show up in review.
 */
async function main(): Promise<void> {
  const config = loadGatewayConfig({
    NODE_ENV: 'development',
    RACK_HOST: 'http://127.0.0.1:1',
    RACK_TOKEN: 'unused',
    DATA_DIR: 'memory://',
    LOG_LEVEL: 'error',
  });
  const app = await createGateway({ config });
  try {
    writeFileSync(resolve(__dirname, '../openapi.json'), `${JSON.stringify(createOpenApiDocument(app), null, 2)}\n`);
  } finally {
    await app.close();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
