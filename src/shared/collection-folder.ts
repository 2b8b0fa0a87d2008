/**
 * The output folder of a collection (DESIGN.md §3.5): `<db>_<table>`, where `db` and `table` are the HBase
 * spellings (letters, digits and `_` only). Spelled naively, `a_b:c` and `a:b_c` would share `a_b_c`; so a `_`
 * inside the namespace is written `-`, a character no HBase name of ours holds (`-` becomes `_` in HBase
 * names). The first `_` of a folder name is then always the separator, and the mapping is injective:
 * `core:addresses` → `core_addresses` (unchanged), `a_b:c` → `a-b_c`, `a:b_c` → `a_b_c`.
 */
export function collectionFolderName(collection: { readonly db: string; readonly table: string }): string {
  return `${collection.db.replace(/_/g, '-')}_${collection.table}`;
}
