// Package churn holds the learners behind the churn model: a standardizer,
// L2-regularised logistic regression, probability calibrators (Platt
// scaling, isotonic regression) and a golearn random forest kept as an
// external reference. The boosted trees it is compared with are in
// models/gbt.
//
// The package works on plain dense matrices so that the learners can be
// tested alone and reused by any feature set: a matrix x with n rows and d
// columns is stored row-major, x[i*d+j] holding feature j of row i. Labels y
// are 1 for a customer who churned and 0 for one who stayed. Feature
// extraction lives in features/, and training order, evaluation and bundles
// live in training/.
//
// Every learner is deterministic: the same input (and seed, where there is
// one) gives the same model bit for bit, whatever GOMAXPROCS is. Parallel
// loops split rows into fixed chunks or work per feature, and combine partial
// results in a fixed order.
package churn
