import http from 'node:http'
import Fastify from 'fastify'
import pino from 'pino'
import app from '../src/app.ts'
import { openDatabase } from '../src/db/client.ts'
const database = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/bench_5m', dataDir: '', logger: pino({ level: 'silent' }) })
const server = Fastify({ logger: false })
await server.register(app, { database, hardening: { rateLimitMax: 0, rateLimitWindowMs: 60000, rateLimitAllow: [], corsOrigins: [], maxEventLoopDelayMs: 0 } })
await server.listen({ port: 3555 })
const m = () => { const u = process.memoryUsage(); return { rss: Math.round(u.rss / 1e6), heapTotal: Math.round(u.heapTotal / 1e6), heapUsed: Math.round(u.heapUsed / 1e6), external: Math.round(u.external / 1e6), ab: Math.round(u.arrayBuffers / 1e6) } }
console.log('before', m())
let max = m()
const timer = setInterval(() => { const x = m(); if (x.rss > max.rss) max = x }, 50)
await new Promise<void>((resolve, reject) => http.get({ host: '127.0.0.1', port: 3555, path: '/v1/values?format=csv&from=2023&to=2025' }, (res) => { res.on('data', () => {}); res.on('end', resolve) }).on('error', reject))
clearInterval(timer)
console.log('max', max, 'after', m())
await server.close()
