// A throwaway OpenID Provider (panva/oidc-provider) for the airflow-provider-rh tests.
//
// Usage: node server.mjs config.json
//
// config.json:
//   {
//     "port": 0,                      // 0 = any free port; the real one is in the OIDC_READY line
//     "issuer_path": "/oidc",         // optional mount path; the issuer is http://127.0.0.1:<port><issuer_path>
//     "clients": [{
//       "client_id": "…",
//       "jwks": {"keys": [{"kty": "RSA", "n": "…", "e": "AQAB", "x5c": ["…"], "kid": "…"}]},
//       "scopes": "a.read b.read",    // optional: resource scopes this client may be granted (default: all)
//       "resources": ["https://…"],   // optional: resource identifiers this client may use (default: all)
//       "token_endpoint_auth_signing_alg": "RS256"  // optional: pin the assertion's alg
//     }],
//     "resources": [{"identifier": "https://…", "scopes": ["a.read"], "access_token_ttl": 3600}],
//     "strict_scopes": true,          // optional (default true): a requested scope the resource/client
//                                     // does not grant is invalid_scope, not silently dropped
//     "require_resource": false,      // optional (default false): no `resource` -> invalid_target (AD FS-like);
//                                     // otherwise an opaque, audience-less token is issued
//     "token_path": "/token"          // optional: token endpoint path below the issuer (e.g. "/oauth2/token/")
//   }
//
// stdout protocol (one line each, flushed):
//   OIDC_READY <issuer>
//   TOKEN_ISSUED <client_id> <resource or ->        once per successful client_credentials token
//   TOKEN_ERROR <error> <client_id or ->             once per failed token request
//   SERVER_ERROR <message>                           unexpected server errors
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as crypto from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: node server.mjs config.json\n');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));

function say(line) {
  // Single writes of whole lines; stdout to a pipe is asynchronous in node but ordered.
  process.stdout.write(`${line}\n`);
}

const oneWord = (value) => String(value ?? '-').replace(/\s+/g, '_') || '-';

const resources = new Map(
  (config.resources ?? []).map((r) => [
    r.identifier,
    {
      scopes: Array.isArray(r.scopes) ? r.scopes : String(r.scopes ?? '').split(' ').filter(Boolean),
      ttl: r.access_token_ttl ?? 3600,
    },
  ]),
);

const clientPolicy = new Map(
  (config.clients ?? []).map((c) => [
    c.client_id,
    {
      scopes: c.scopes === undefined
        ? undefined
        : new Set(Array.isArray(c.scopes) ? c.scopes : String(c.scopes).split(' ').filter(Boolean)),
      resources: c.resources === undefined ? undefined : new Set(c.resources),
    },
  ]),
);

const strictScopes = config.strict_scopes ?? true;
const requireResource = config.require_resource ?? false;

// The server's own signing key, fresh on every start.
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }),
  kid: crypto.randomBytes(8).toString('hex'),
  use: 'sig',
  alg: 'RS256',
};

const issuerPath = (config.issuer_path ?? '').replace(/\/+$/, '');
if (issuerPath && !issuerPath.startsWith('/')) {
  throw new Error('issuer_path must start with "/"');
}

let provider;

const server = http.createServer((req, res) => {
  if (!provider) {
    res.writeHead(503).end();
    return;
  }
  if (issuerPath) {
    if (req.url !== issuerPath && !req.url.startsWith(`${issuerPath}/`)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'not_found' }));
      return;
    }
    // What express/koa-mount do: oidc-provider derives its mount path from originalUrl vs url.
    req.originalUrl = req.url;
    req.url = req.url.slice(issuerPath.length) || '/';
  }
  provider.callback()(req, res);
});

server.listen(config.port ?? 0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}${issuerPath}`;

  provider = new Provider(issuer, {
    clients: (config.clients ?? []).map((c) => ({
      client_id: c.client_id,
      token_endpoint_auth_method: 'private_key_jwt',
      // Unset = any of the provider's supported algorithms (RS256, PS256, ES256, EdDSA, ...).
      ...(c.token_endpoint_auth_signing_alg
        ? { token_endpoint_auth_signing_alg: c.token_endpoint_auth_signing_alg }
        : {}),
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      jwks: c.jwks,
    })),
    jwks: { keys: [signingJwk] },
    ...(config.token_path ? { routes: { token: config.token_path } } : {}),
    clientAuthMethods: ['private_key_jwt'],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: false },
      revocation: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // No `resource` parameter -> no resource server -> an opaque token without audience
        // (and only the provider's static OIDC scopes survive). See tests/test_oidc_server.py.
        defaultResource: async () => {
          if (requireResource) {
            throw new errors.InvalidTarget('resource parameter is required');
          }
          return undefined;
        },
        useGrantedResource: async () => false,
        getResourceServerInfo: async (ctx, identifier, client) => {
          const resource = resources.get(identifier);
          if (!resource) {
            throw new errors.InvalidTarget(`resource ${identifier} is not a registered resource identifier`);
          }
          const policy = clientPolicy.get(client.clientId) ?? {};
          if (policy.resources && !policy.resources.has(identifier)) {
            throw new errors.InvalidTarget(`client is not allowed to access resource ${identifier}`);
          }
          const granted = resource.scopes.filter((s) => !policy.scopes || policy.scopes.has(s));
          if (strictScopes) {
            const requested = String(ctx.oidc.params.scope ?? '').split(' ').filter(Boolean);
            const refused = requested.filter((s) => !granted.includes(s));
            if (refused.length) {
              throw new errors.InvalidScope('requested scope is not granted for this resource', refused.join(' '));
            }
          }
          return {
            scope: granted.join(' '),
            audience: identifier,
            accessTokenTTL: resource.ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    ttl: {
      // Explicit functions silence oidc-provider's "define the expiration" startup notices.
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 3600,
      Grant: 3600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      RefreshToken: 3600,
    },
    // Interactions are never used (client credentials only); a static url silences the notice.
    interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
    renderError: async (ctx, out) => {
      ctx.type = 'application/json';
      ctx.body = out;
    },
  });

  provider.on('grant.success', (ctx) => {
    if (ctx.oidc.params?.grant_type !== 'client_credentials') return;
    const token = ctx.oidc.entities.ClientCredentials;
    const resource = token?.resourceServer?.identifier();
    say(`TOKEN_ISSUED ${oneWord(ctx.oidc.client?.clientId)} ${oneWord(resource)}`);
  });
  provider.on('grant.error', (ctx, err) => {
    say(`TOKEN_ERROR ${oneWord(err.error ?? err.message)} ${oneWord(ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id)}`);
    if (err.error_detail) process.stderr.write(`grant.error ${err.error}: ${err.error_detail}\n`);
  });
  provider.on('server_error', (ctx, err) => {
    if (ctx.oidc?.route === 'token') {
      say(`TOKEN_ERROR server_error ${oneWord(ctx.oidc?.client?.clientId ?? ctx.oidc?.params?.client_id)}`);
    }
    say(`SERVER_ERROR ${oneWord(err.message)}`);
    process.stderr.write(`${err.stack}\n`);
  });

  say(`OIDC_READY ${issuer}`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
