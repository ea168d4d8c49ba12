/**
 * The SMART authorization server's state, shared by every server process.
 *
 * - `oauth_client`: clients registered through the admin API (those of the configuration file
 *   stay in memory); `metadata` is the registration, with a digest of the secret, never the secret.
 * - `app_user`: the people who may log in, each a Practitioner; a password hash for local logins,
 *   Pro Santé Connect logins are matched by the Practitioner's IDNPS.
 * - `oauth_grant`: what a user (or nobody, for a backend) granted a client: scope and launch
 *   context. Codes and refresh tokens point to it; revoking it revokes all of them.
 * - `oauth_code`, `refresh_token`: single-use, stored as SHA-256 digests.
 * - `revocation`: revoked access-token ids (jti) and grant ids, kept until the tokens would expire.
 * - `client_assertion`: jti of private_key_jwt assertions already used (replay protection).
 * - `launch_context`: EHR launch handles minted by practice software.
 * - `login_session`: the state of an interactive authorization between its pages.
 */
export const statements = [
  `CREATE TABLE oauth_client (
     client_id text PRIMARY KEY,
     metadata jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE app_user (
     id text PRIMARY KEY,
     practitioner_id text NOT NULL UNIQUE,
     username text UNIQUE,
     password_hash text,
     active boolean NOT NULL DEFAULT true,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE oauth_grant (
     id text PRIMARY KEY,
     client_id text NOT NULL,
     user_id text,
     scope text NOT NULL,
     context jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     expires_at timestamptz NOT NULL
   )`,
  `CREATE TABLE oauth_code (
     code_hash text PRIMARY KEY,
     grant_id text NOT NULL,
     redirect_uri text NOT NULL,
     code_challenge text NOT NULL,
     nonce text,
     expires_at timestamptz NOT NULL,
     used_at timestamptz
   )`,
  `CREATE TABLE refresh_token (
     token_hash text PRIMARY KEY,
     grant_id text NOT NULL,
     expires_at timestamptz NOT NULL,
     used_at timestamptz
   )`,
  `CREATE INDEX refresh_token_grant ON refresh_token (grant_id)`,
  `CREATE TABLE revocation (id text PRIMARY KEY, expires_at timestamptz NOT NULL)`,
  `CREATE TABLE client_assertion (
     client_id text NOT NULL,
     jti text NOT NULL,
     expires_at timestamptz NOT NULL,
     PRIMARY KEY (client_id, jti)
   )`,
  `CREATE TABLE launch_context (
     handle_hash text PRIMARY KEY,
     client_id text,
     context jsonb NOT NULL,
     expires_at timestamptz NOT NULL,
     used_at timestamptz
   )`,
  `CREATE TABLE login_session (
     id_hash text PRIMARY KEY,
     state jsonb NOT NULL,
     expires_at timestamptz NOT NULL
   )`,
];
