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

// The dashboard is where a signed-in owner lands, and its page chunk is otherwise requested only
// after the router guard's /me: preload it and the chunks it imports (not the lazy charts) from
// index.html, so they download alongside the entry script. Their CSS is preloaded, not applied.
function preloadHomePage() {
  return {
    name: 'suanpan-preload-home',
    apply: 'build' as const,
    transformIndexHtml: {
      order: 'post' as const,
      handler(html: string, ctx: { bundle?: Record<string, any>; chunk?: any }) {
        const bundle = ctx.bundle
        if (!bundle) return html
        const chunks = Object.values(bundle).filter((c: any) => c.type === 'chunk')
        const home = chunks.find((c: any) => c.facadeModuleId?.endsWith('/src/pages/home/index.vue'))
        if (!home) return html
        const js = new Set<string>()
        const css = new Set<string>()
        const visit = (file: string) => {
          if (js.has(file) || html.includes(`/${file}"`)) return
          js.add(file)
          const c: any = bundle[file]
          for (const f of c?.viteMetadata?.importedCss ?? []) css.add(f)
          for (const f of c?.imports ?? []) visit(f)
        }
        visit(home.fileName)
        return [
          ...[...js].map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `/${f}` }, injectTo: 'head' as const })),
          ...[...css].filter((f) => !html.includes(`/${f}"`)).map((f) => ({ tag: 'link', attrs: { rel: 'preload', as: 'style', crossorigin: true, href: `/${f}` }, injectTo: 'head' as const })),
        ]
      },
    },
  }
}

// The vendor chunk: the Vue stack and the Vant parts the shell and the dashboard draw; Vant
// components only other pages use (forms, calendar, uploader, ...) stay with those pages.
const VANT_SHELL = new Set(['utils', 'composables', 'locale', 'style', 'config-provider', 'toast', 'dialog', 'notify', 'popup', 'overlay', 'loading', 'icon', 'badge', 'button', 'cell', 'empty', 'skeleton', 'skeleton-title', 'skeleton-paragraph', 'skeleton-avatar', 'pull-refresh', 'tag', 'tabbar', 'tabbar-item', 'nav-bar', 'notice-bar', 'index.mjs'])
function inVendorChunk(id: string): boolean {
  const m = /node_modules[\\/](?:vant[\\/]es[\\/]([^\\/]+)|(?:@vue|vue|vue-router|pinia|vue-i18n|@intlify|@vant)[\\/])/.exec(id)
  return !!m && (m[1] === undefined || VANT_SHELL.has(m[1]))
}

// Flask serves dist/ at / (app/frontend.py); `npm run dev` proxies /api to a local ./scripts/run.
export default defineConfig({
  plugins: [vue(), Components({ resolvers: [VantResolver()], dts: false }), preloadHomePage(), precompress()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2020',
    chunkSizeWarningLimit: 700,
    // On a high-latency link each file costs a round trip (6 connections over HTTP/1.1): Vue,
    // the router, Pinia, vue-i18n and the Vant components go in one vendor chunk (and one CSS
    // file) instead of ~20 small ones. ECharts and the scanners stay lazy, in their own chunks.
    rolldownOptions: {
      output: {
        codeSplitting: {
          groups: [{ name: 'vendor', test: inVendorChunk }],
        },
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
  test: {
    environment: 'node',
    include: ['src/**/*.spec.ts'],
  },
})
