/**
 * `?page=1&limit=20` (limit ≤ 100) and the `meta` of every list response (DESIGN §3).
 */
import { z } from "@hono/zod-openapi";

export const PaginationQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1).openapi({ example: 1 }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
});

export const PageMetaSchema = z
  .object({
    total: z.number().int(),
    limit: z.number().int(),
    page: z.number().int(),
    total_pages: z.number().int(),
    has_next: z.boolean(),
    has_previous: z.boolean(),
  })
  .openapi("PageMeta", {
    example: { total: 42, limit: 20, page: 1, total_pages: 3, has_next: true, has_previous: false },
  });

export type PageMeta = z.infer<typeof PageMetaSchema>;

export function pageMeta(total: number, page: number, limit: number): PageMeta {
  const totalPages = Math.max(1, Math.ceil(total / limit));
  return {
    total,
    limit,
    page,
    total_pages: totalPages,
    has_next: page < totalPages,
    has_previous: page > 1,
  };
}

/** `{ success, message, data: [...], meta }` around an item schema. */
export function listEnvelope<T extends z.ZodType>(item: T) {
  return z.object({
    success: z.literal(true),
    message: z.string(),
    data: z.array(item),
    meta: PageMetaSchema,
  });
}

/** The list envelope value, typed for `c.json(...)`. */
export function okList<T>(message: string, data: T[], meta: PageMeta) {
  return { success: true as const, message, data, meta };
}
