import { sql } from 'drizzle-orm';
import { queryRows, type AppDb } from '../../src/db/client.ts';

/** Every text, bytea, json and jsonb value of every table in the public and drizzle schemas, as text. */
export async function dumpDatabaseText(database: { withOwnerConnection<T>(fn: (db: AppDb) => Promise<T>): Promise<T> }): Promise<string> {
  return database.withOwnerConnection(async (owner) => {
    const columns = await queryRows<{ table_schema: string; table_name: string; column_name: string; data_type: string }>(
      owner,
      sql`select c.table_schema, c.table_name, c.column_name, c.data_type from information_schema.columns c
          join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
          where c.table_schema in ('public', 'drizzle') and c.data_type in ('text', 'character varying', 'bytea', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED')`,
    );
    const parts: string[] = [];
    for (const column of columns) {
      const rows = await queryRows<{ v: string | null }>(
        owner,
        sql`select ${sql.identifier(column.column_name)}::text as v from ${sql.identifier(column.table_schema)}.${sql.identifier(column.table_name)}`,
      );
      for (const row of rows) if (row.v !== null) parts.push(row.v);
      // bytea as text is hex: search its decoded form too.
      if (column.data_type === 'bytea') {
        const raw = await queryRows<{ v: string | null }>(owner, sql`select encode(${sql.identifier(column.column_name)}, 'escape') as v from ${sql.identifier(column.table_schema)}.${sql.identifier(column.table_name)}`);
        for (const row of raw) if (row.v !== null) parts.push(row.v);
      }
    }
    return parts.join('\n');
  });
}
