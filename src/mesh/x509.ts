// @peculiar/x509 builds on tsyringe, which needs the Reflect metadata API loaded first:
// module evaluation follows import order.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export { x509 };
