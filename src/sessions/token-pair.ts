/**
 * The answer of every sign-in (registration, login, refresh): the user object, a new access token
 * for the session, and its refresh token.
 */
import type { Assurance } from "../app-env";
import { signAccessToken } from "../auth/jwt";
import type { Config } from "../config";
import { toUserObject, type UserObject, type UserWithPreferences } from "../users/user-object";

export interface TokenPair {
  user: UserObject;
  access_token: string;
  refresh_token: string;
  token_type: "Bearer";
  expires_in: number;
}

export async function tokenPair(
  config: Config,
  account: UserWithPreferences,
  session: { sessionId: string; refreshToken: string; assurance: Assurance },
  now: Date,
): Promise<TokenPair> {
  const { user } = account;
  const access = await signAccessToken(
    config,
    {
      userId: user.id,
      sid: session.sessionId,
      email: user.email,
      role: user.role,
      assurance: session.assurance,
    },
    now.getTime(),
  );
  return {
    user: toUserObject(account),
    access_token: access.token,
    refresh_token: session.refreshToken,
    token_type: "Bearer",
    expires_in: access.expiresIn,
  };
}
