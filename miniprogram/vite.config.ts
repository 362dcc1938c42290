import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { VantResolver } from '@vant/auto-import-resolver'

// Write a .gz beside each JS/CSS asset at build time; app/frontend.py sends it to clients that
// accept gzip (Flask does not compress on the fly). No plugin dependency: node:zlib.
function precompress() {
  return {
    name: 'suanpan-precompress',
    apply: 'build' as const,
    closeBundle() {
      const dir = fileURLToPath(new URL('./dist/assets', import.meta.url))
      for (const name of readdirSync(dir)) {
        if (/\.(js|css)$/.test(name)) writeFileSync(join(dir, `${name}.gz`), gzipSync(readFileSync(join(dir, name)), { level: 9 }))
      }
    },
  }
}

// Flask serves dist/ at / (app/frontend.py); `npm run dev` proxies /api to a local ./scripts/run.
export default defineConfig({
  plugins: [vue(), Components({ resolvers: [VantResolver()], dts: false }), precompress()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2020',
    chunkSizeWarningLimit: 700,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
  test: {
    environment: 'node',
    include: ['src/**/*.spec.ts'],
  },
})
