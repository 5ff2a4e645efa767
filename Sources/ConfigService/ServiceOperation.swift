package import Gateway

/// Gateway's operation declaration, named apart from Foundation's `Operation` (which the service's files import).
package typealias ServiceOperation = Operation
