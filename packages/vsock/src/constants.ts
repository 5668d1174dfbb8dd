/**
 * AF_VSOCK address constants, as in `<linux/vm_sockets.h>`.
 * @packageDocumentation
 */

/** Any CID: bind to every CID this machine owns. Written `-1` or `any` in addresses. */
export const VMADDR_CID_ANY = 0xffffffff;
/** Hypervisor CID (0): reserved, never bindable by us. */
export const VMADDR_CID_HYPERVISOR = 0;
/** Local loopback CID (1): needs the `vsock_loopback` kernel module. */
export const VMADDR_CID_LOCAL = 1;
/** The host's CID (2), as seen from a guest; bindable on a host with `vhost_vsock`. */
export const VMADDR_CID_HOST = 2;
/** Any port: let the kernel pick one at bind time. Written `-1` or `any`. */
export const VMADDR_PORT_ANY = 0xffffffff;
/** Highest valid CID or port value (both are unsigned 32-bit). */
export const VSOCK_U32_MAX = 0xffffffff;
