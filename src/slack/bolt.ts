import { createRequire } from 'node:module';
import type { App as BoltApp } from '@slack/bolt';

/**
 * Bolt's App class, loaded from its own module. The package's index also loads the Express and AWS Lambda
 * receivers, which keyturn never uses: several MB more resident memory for every process that talks to Slack.
 * It is CommonJS and required as such, so that Node and the test runner see the same exports.
 */
const bolt = createRequire(import.meta.url)('@slack/bolt/dist/App.js') as typeof import('@slack/bolt/dist/App.js');
export const App: typeof BoltApp = bolt.default;
export type App = BoltApp;
export const LogLevel = bolt.LogLevel;
