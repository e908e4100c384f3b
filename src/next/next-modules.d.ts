/**
 * Next.js has no `exports` map, so NodeNext resolution (this repository's) cannot resolve its
 * bare subpaths, while Next.js's bundler needs exactly those: with `next/navigation.js` it loads
 * another copy of the module, and route handlers fail to build. These declarations give the bare
 * specifiers the types of the files. Only values are imported this way; the published types
 * import `next/server.js`, which resolves everywhere.
 */
declare module 'next/server' {
  export * from 'next/server.js';
}
declare module 'next/headers' {
  export * from 'next/headers.js';
}
declare module 'next/navigation' {
  export * from 'next/navigation.js';
}
