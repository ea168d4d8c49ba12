/**
 * Keys the authorization server signs tokens with. Kept in the database so that every server
 * process signs and verifies with the same keys; a retired key still verifies until its tokens expire.
 */
export const statements = [
  `CREATE TABLE signing_key (
     kid text PRIMARY KEY,
     private_jwk text NOT NULL,
     public_jwk text NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     retired_at timestamptz
   )`,
];
