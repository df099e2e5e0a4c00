/** The device of a session in words: moved to src/web/user-agent.ts (the sign-in pages need it too). */
export * from '../web/user-agent.ts';
