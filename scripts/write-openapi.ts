// Writes openapi/openapi.json from the app's route schemas. CI runs it and fails when
// the committed document differs (`git diff --exit-code openapi/`).
import { mkdir, writeFile } from 'node:fs/promises'
import { buildOpenApiDocument } from '../src/openapi-document.ts'

const document = await buildOpenApiDocument()
await mkdir(new URL('../openapi/', import.meta.url), { recursive: true })
await writeFile(new URL('../openapi/openapi.json', import.meta.url), JSON.stringify(document, null, 2) + '\n')
console.log('wrote openapi/openapi.json')
