/**
 * The fields a re-import may change on a user who is already here (the import's `update` list).
 * A module of its own, importing nothing, so the Node CLI (scripts/django-import/) shares it.
 */
export const UPDATABLE_FIELDS = [
  "email",
  "username",
  "name",
  "password",
  "is_active",
  "role",
  "email_verified",
  "preferences",
  "push_devices",
  "last_login_at",
  "legacy_id",
] as const;

export type UpdatableField = (typeof UPDATABLE_FIELDS)[number];
