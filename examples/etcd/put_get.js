// npm etcd3 against chronoconf's etcd API:
//   (cd tests/etcd_clients/node && npm ci) && NODE_PATH=tests/etcd_clients/node/node_modules node examples/etcd/put_get.js 127.0.0.1:2379
const { Etcd3 } = require('etcd3');

(async () => {
  const client = new Etcd3({ hosts: process.argv[2] || '127.0.0.1:2379' });
  await client.put('app/region').value('eu-west');
  console.log(await client.get('app/region').string());
  client.close();
})();
