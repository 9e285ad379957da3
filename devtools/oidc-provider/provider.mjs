// A real OpenID provider (the certified `oidc-provider` package) for trainops' organisation
// sign-in tests. Never part of a deployment: it trusts one first-party client, keeps everything
// in memory and has a test-only admin API to rotate its signing keys and to make the next
// token response carry a broken ID token (what a compromised network or provider would send).
//
// Usage: node provider.mjs CONFIG.json
//   {
//     "port": 9999, "issuer": "http://127.0.0.1:9999",
//     "client": {"client_id": "...", "client_secret": "...", "redirect_uris": ["..."]},
//     "accounts": [{"sub": "...", "password": "...", "claims": {"email": "...", "role": "..."}}],
//     "admin_token": "...",            // Bearer token of the /admin/* endpoints
//     "claims_scope": "trainops"       // the scope that releases every non-standard claim
//   }
// Prints one JSON line {"event": "oidc_provider_listening", ...} when it accepts connections.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import {
  SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK,
} from 'jose';
import Provider from 'oidc-provider';

const ALG = 'RS256';
const STANDARD_SCOPES = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'preferred_username', 'given_name', 'family_name'],
};

function fail(message) {
  process.stderr.write(`${JSON.stringify({ event: 'oidc_provider_config_error', message })}\n`);
  process.exit(2);
}

function loadConfig(path) {
  if (!path) fail('usage: node provider.mjs CONFIG.json');
  let config;
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(`cannot read ${path}: ${error.message}`);
  }
  const port = Number(config.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) fail('port must be a TCP port');
  if (typeof config.issuer !== 'string' || !config.issuer.startsWith('http')) fail('issuer must be a URL');
  const client = config.client ?? {};
  for (const key of ['client_id', 'client_secret']) {
    if (typeof client[key] !== 'string' || !client[key]) fail(`client.${key} is required`);
  }
  if (!Array.isArray(client.redirect_uris) || client.redirect_uris.length === 0) {
    fail('client.redirect_uris must list at least one URI');
  }
  if (!Array.isArray(config.accounts)) fail('accounts must be a list');
  const accounts = new Map();
  for (const account of config.accounts) {
    if (typeof account.sub !== 'string' || typeof account.password !== 'string') {
      fail('every account needs a sub and a password');
    }
    accounts.set(account.sub, { password: account.password, claims: account.claims ?? {} });
  }
  if (typeof config.admin_token !== 'string' || config.admin_token.length < 16) {
    fail('admin_token must be at least 16 characters');
  }
  return { ...config, port, client, accounts, claimsScope: config.claims_scope ?? 'trainops' };
}

const config = loadConfig(process.argv[2]);

// Keys the provider signs with: [current, ...]. Rotation puts a new one first and drops the rest.
async function newSigningKey() {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: randomBytes(8).toString('hex'), alg: ALG, use: 'sig' };
}

function customClaims() {
  const names = new Set();
  for (const account of config.accounts.values()) {
    for (const name of Object.keys(account.claims)) names.add(name);
  }
  const standard = new Set(Object.values(STANDARD_SCOPES).flat());
  return [...names].filter((name) => !standard.has(name));
}

// One-shot sabotage of the next ID token the token endpoint hands out.
let sabotage = null;

function constantEquals(a, b) {
  const left = Buffer.from(String(a));
  const right = Buffer.from(String(b));
  return left.length === right.length && timingSafeEqual(left, right);
}

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><main><h1>${title}</h1>${body}</main></body></html>`;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function buildProvider(jwks) {
  const provider = new Provider(config.issuer, {
    clients: [{
      client_id: config.client.client_id,
      client_secret: config.client.client_secret,
      redirect_uris: config.client.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: config.client.token_endpoint_auth_method ?? 'client_secret_basic',
      id_token_signed_response_alg: ALG,
    }],
    jwks,
    cookies: { keys: [config.cookie_key] },
    // Claims go into the ID token itself, as the organisations' providers are asked to do.
    conformIdTokenClaims: false,
    claims: { ...STANDARD_SCOPES, [config.claimsScope]: customClaims() },
    scopes: ['openid', 'email', 'profile', config.claimsScope],
    findAccount(ctx, sub) {
      const account = config.accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
    },
    // A first-party client: the person is never asked to consent, every requested scope is granted.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) {
        const existing = await ctx.oidc.provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
      grant.addOIDCClaims(['sub', ...Object.values(STANDARD_SCOPES).flat(), ...customClaims()]);
      await grant.save();
      return grant;
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Interaction: 600, Session: 600, Grant: 600 },
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<p>${escapeHtml(out.error)}: ${escapeHtml(out.error_description ?? '')}</p>`);
    },
  });
  provider.proxy = false;

  // The login form (fields `login`, `password`), and the test-only admin API.
  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
    if (match) {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.prompt.name !== 'login') ctx.throw(400, `unsupported prompt ${details.prompt.name}`);
      if (ctx.method === 'GET' && !match[2]) {
        ctx.type = 'html';
        ctx.set('cache-control', 'no-store');
        ctx.body = page('Sign in', loginForm(details.uid, ''));
        return;
      }
      if (ctx.method === 'POST' && match[2]) {
        const form = await readForm(ctx.req);
        const login = form.get('login') ?? '';
        const account = config.accounts.get(login);
        if (!account || !constantEquals(account.password, form.get('password') ?? '')) {
          ctx.status = 401;
          ctx.type = 'html';
          ctx.body = page('Sign in', `<p role="alert">Wrong login or password.</p>${loginForm(details.uid, login)}`);
          return;
        }
        await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login } }, {
          mergeWithLastSubmission: false,
        });
        return;
      }
      ctx.throw(405);
    }
    await next();
    if (ctx.path === '/token' && ctx.method === 'POST' && ctx.status === 200 && sabotage
        && ctx.body && typeof ctx.body.id_token === 'string') {
      const how = sabotage;
      sabotage = null;
      ctx.body = { ...ctx.body, id_token: await sabotaged(ctx.body.id_token, how) };
    }
  });
  return provider;
}

function loginForm(uid, login) {
  return `<form method="post" action="/interaction/${escapeHtml(uid)}/login">`
    + `<label>Login <input name="login" value="${escapeHtml(login)}" autocomplete="username"></label>`
    + '<label>Password <input name="password" type="password" autocomplete="current-password"></label>'
    + '<button type="submit">Sign in</button></form>';
}

async function sabotaged(idToken, how) {
  const header = decodeProtectedHeader(idToken);
  const claims = decodeJwt(idToken);
  switch (how.mode) {
    case 'tamper': {
      // The provider's own signature over different claims: the signature no longer matches.
      const [head, , signature] = idToken.split('.');
      const changed = { ...claims, ...(how.claims ?? { role: 'admin' }) };
      return `${head}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${signature}`;
    }
    case 'unknown-key':
    case 'foreign-key-same-kid': {
      // Signed by a key the provider never published, under a fresh kid or the current one.
      const { privateKey } = await generateKeyPair(ALG, { modulusLength: 2048 });
      const kid = how.mode === 'unknown-key' ? randomBytes(8).toString('hex') : header.kid;
      return new SignJWT(claims).setProtectedHeader({ alg: ALG, kid, typ: header.typ }).sign(privateKey);
    }
    case 'claims': {
      // Validly signed by the current key, with some claims replaced (wrong aud, iss, exp, nonce).
      const key = await importJWK(signingKeys[0], ALG);
      const changed = { ...claims, ...(how.claims ?? {}) };
      for (const [name, value] of Object.entries(changed)) if (value === null) delete changed[name];
      return new SignJWT(changed).setProtectedHeader({ alg: ALG, kid: signingKeys[0].kid }).sign(key);
    }
    default:
      throw new Error(`unknown sabotage mode ${how.mode}`);
  }
}

function publicKid(jwk) {
  return jwk.kid;
}

config.cookie_key = randomBytes(32).toString('hex');
let signingKeys = [await newSigningKey()];
let provider = buildProvider({ keys: signingKeys });
let handler = provider.callback();

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function admin(req, res, path) {
  const auth = req.headers.authorization ?? '';
  if (!constantEquals(auth, `Bearer ${config.admin_token}`)) {
    sendJson(res, 401, { error: 'admin token required' });
    return;
  }
  if (req.method !== 'POST') {
    sendJson(res, 405, { error: 'POST only' });
    return;
  }
  let body;
  try {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
  } catch {
    sendJson(res, 400, { error: 'body must be JSON' });
    return;
  }
  if (path === '/admin/rotate-keys') {
    // A new key signs from now on and is first in the JWKS; the old key is no longer published.
    const retired = signingKeys.map(publicKid);
    signingKeys = [await newSigningKey()];
    provider = buildProvider({ keys: signingKeys });
    handler = provider.callback();
    sendJson(res, 200, { kid: signingKeys[0].kid, retired });
    return;
  }
  if (path === '/admin/redirect-uris') {
    // For a client whose address is known only once it runs (a service on a free port).
    const uris = body.redirect_uris;
    if (!Array.isArray(uris) || uris.length === 0 || !uris.every((u) => typeof u === 'string' && /^https?:\/\//.test(u))) {
      sendJson(res, 400, { error: 'redirect_uris must be a non-empty list of http(s) URLs' });
      return;
    }
    config.client.redirect_uris = uris;
    provider = buildProvider({ keys: signingKeys });
    handler = provider.callback();
    sendJson(res, 200, { redirect_uris: uris });
    return;
  }
  if (path === '/admin/sabotage-next-id-token') {
    const modes = ['tamper', 'unknown-key', 'foreign-key-same-kid', 'claims'];
    if (!modes.includes(body.mode)) {
      sendJson(res, 400, { error: `mode must be one of ${modes.join(', ')}` });
      return;
    }
    sabotage = { mode: body.mode, claims: body.claims };
    sendJson(res, 200, { armed: body.mode });
    return;
  }
  if (path === '/admin/keys') {
    sendJson(res, 200, { kids: signingKeys.map(publicKid) });
    return;
  }
  sendJson(res, 404, { error: 'unknown admin endpoint' });
}

const server = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://provider').pathname;
  if (path.startsWith('/admin/')) {
    admin(req, res, path).catch((error) => sendJson(res, 500, { error: error.message }));
    return;
  }
  handler(req, res);
});

server.on('error', (error) => {
  process.stderr.write(`${JSON.stringify({ event: 'oidc_provider_error', message: error.message, code: error.code })}\n`);
  process.exit(error.code === 'EADDRINUSE' ? 3 : 1);
});

server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({
    event: 'oidc_provider_listening', issuer: config.issuer, port: config.port, kid: signingKeys[0].kid,
  })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
