/** `import text from './file?raw'`: the file's text (Vite natively; esbuild via scripts/build-app.mjs). */
declare module '*?raw' {
  const text: string;
  export default text;
}
