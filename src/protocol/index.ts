export * from './run';
export * from './worker';
export * from './webview';
export * from './channel';
export * from './landscape';
export * from './errors';
export * from './defaults';
