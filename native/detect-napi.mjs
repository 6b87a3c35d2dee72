// Build-time feature detection, run by binding.gyp: prints 1 when the Node headers being built
// against declare node_api_create_external_sharedarraybuffer (newer Node lines; experimental),
// else 0. Usage: node native/detect-napi.mjs <node_root_dir>
import fs from 'node:fs';
import path from 'node:path';

const root = process.argv[2] ?? '';
const candidates = [path.join(root, 'include', 'node', 'js_native_api.h'), path.join(root, 'src', 'js_native_api.h')];
let found = 0;
for (const file of candidates) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    continue;
  }
  // Both the function and the finalizer type it takes must be there for our code to compile.
  if (/\bnode_api_create_external_sharedarraybuffer\b/.test(text) && /\bnode_api_noenv_finalize\b/.test(text + readTypes(file))) {
    found = 1;
  }
  break;
}
process.stdout.write(String(found));

function readTypes(apiHeader) {
  try {
    return fs.readFileSync(path.join(path.dirname(apiHeader), 'js_native_api_types.h'), 'utf8');
  } catch {
    return '';
  }
}
