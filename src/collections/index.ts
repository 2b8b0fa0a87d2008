/** Public surface of the collections configuration (DESIGN.md §3.4). */
export { collectionConfig, collectionFromName, hbaseName, requireConfigured, selectCollections } from './collection-name.js';
export { encodeLegacySecret, parseCollectionsSecret } from './collections-secret.js';
export { StaticCollections, type CollectionsSource } from './collections-source.js';
export { parsePythonLiteral, PythonLiteralError, type PyDict, type PyValue } from './python-literal.js';
export { toPythonLiteral } from './python-repr.js';
