#!/usr/bin/env node
// Launcher: the CLI is TypeScript (src/cli/main.ts), run through tsx's loader, which the
// package ships as a runtime dependency.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/main.ts')
