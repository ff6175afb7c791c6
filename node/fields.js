'use strict'
// Refuses a property an options object does not have: a misspelt option would otherwise be
// ignored. The rule (and the "did you mean" suggestion) is the core's, through the addon, as for
// the objects the addon reads itself. Internal: not exported by the package.

const native = require('./index.js')
const { fromNative } = require('./errors.js')

/** Throws a `ValidationError` naming the first property of `options` not in `fields`. */
function checkFields(options, what, fields) {
  try {
    native.checkFields(options, what, fields)
  } catch (e) {
    throw fromNative(e)
  }
}

module.exports = { checkFields }
