/* global module */
// PM2 cluster mode for examples/standalone.ts (build first: npm run build).
//   pm2 start examples/ecosystem.config.cjs && pm2 logs shmzone-standalone
// Every instance runs in shmzone's `standalone` mode (PM2 is the primary, not our code) and
// shares the zones of the namespace below; `shmzone ls --namespace myapp` shows them.
module.exports = {
  apps: [
    {
      name: 'shmzone-standalone',
      script: 'dist/examples/standalone.js',
      exec_mode: 'cluster',
      instances: 'max',
      env: {
        SHMZONE_NAMESPACE: 'myapp',
        PORT: '3000',
        EXAMPLE_SECONDS: '0', // serve until PM2 stops the instance
      },
      // Let an instance leave its zones (the last one out removes them) before PM2 kills it.
      kill_timeout: 5000,
    },
  ],
};
