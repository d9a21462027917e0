/**
 * The smallest gateway config: every path to one service. Ports are 0 (the real ones come from
 * the gateway's ready line); `serviceYaml` is extra flow-mapping keys for the service.
 */
export function oneServiceGateway(endpoints: readonly string[], serviceYaml = '', routePrefix = '/'): string {
  const extra = serviceYaml === '' ? '' : `, ${serviceYaml}`;
  return `
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes: [{ name: app, match: { pathPrefix: ${routePrefix} }, service: app }]
services:
  app: { endpoints: [${endpoints.join(', ')}]${extra} }
`;
}

/**
 * A gateway routing every path to the service `app`, whose settings (block YAML indented under
 * `app:`) are `serviceBlock`; more services may follow it at the same indentation as `app`.
 */
export function gatewayForApp(serviceBlock: string): string {
  return `
gateway:
  listen: 127.0.0.1:0
  admin: 127.0.0.1:0
  routes: [{ name: app, match: { pathPrefix: / }, service: app }]
services:
  app:${serviceBlock}`;
}
