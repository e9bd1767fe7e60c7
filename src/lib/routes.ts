/** Response fragments shared by the route schemas. */
export const NOT_MODIFIED = { 304: { description: 'Not Modified: the ETag in If-None-Match is current', type: 'null' } } as const
export const NO_CONTENT = { 204: { description: 'Deleted', type: 'null' } } as const
